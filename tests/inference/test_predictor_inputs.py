"""Predictor inputs: arrays, files and stores of the model's layout or of a mappable one, and one clear error
(never a crash inside the network) for input the model cannot take."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from skelact.data.store import SkeletonStore
from skelact.errors import FormatError, LayoutError
from skelact.inference import Predictor
from skelact.skeleton import get_layout


@pytest.fixture(scope="module")
def predictor_2d(trained_run_2d: dict[str, Path]) -> Predictor:
    return Predictor.from_checkpoint(trained_run_2d["ckpt"])


def _as_mediapipe(coco: np.ndarray) -> np.ndarray:
    """Embed coco17 keypoints (M, T, 17, C) in a 33-landmark MediaPipe array (other landmarks random)."""
    mp, coco_layout = get_layout("mediapipe33"), get_layout("coco17")
    out = (
        np.random.default_rng(0)
        .uniform(0.1, 0.5, size=(*coco.shape[:2], 33, coco.shape[-1]))
        .astype(np.float32)
    )
    out[:, :, [mp.joint_index(n) for n in coco_layout.joint_names]] = coco
    return out


def test_mediapipe_input_is_mapped_and_predicts_as_the_coco_input(
    predictor_2d: Predictor, trained_run_2d
) -> None:
    sample = SkeletonStore(trained_run_2d["store"])[0]
    direct = predictor_2d.predict_sample(sample, top_k=3)
    score = np.pad(sample.score, ((0, 0), (0, 0), (0, 16)), constant_values=1)
    via_mediapipe = predictor_2d.predict_array(
        _as_mediapipe(sample.keypoint), score=score, layout="mediapipe33", top_k=3
    )
    assert via_mediapipe.indices == direct.indices
    np.testing.assert_allclose(via_mediapipe.probabilities, direct.probabilities, atol=1e-4)
    # 33 joints and exactly one mapping into coco17: recognised without naming the layout.
    auto = predictor_2d.predict_array(_as_mediapipe(sample.keypoint[:1]), top_k=3)
    assert len(auto.classes) == 3


def test_predict_file_reads_npy_and_keypoint_tables(
    predictor_2d: Predictor, tmp_path: Path, trained_run_2d
) -> None:
    sample = SkeletonStore(trained_run_2d["store"])[0]
    npy = tmp_path / "clip.npy"
    np.save(npy, np.concatenate([sample.keypoint, sample.score[..., None]], axis=-1))
    from_npy = predictor_2d.predict_file(npy, score_channel=True, top_k=2)
    table = tmp_path / "clip.csv"
    names = get_layout("coco17").joint_names
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "person", "joint", "x", "y", "score"])
        for m, t, v in np.ndindex(*sample.keypoint.shape[:3]):
            x, y = sample.keypoint[m, t, v]
            writer.writerow(
                [t, m, names[v], repr(float(x)), repr(float(y)), repr(float(sample.score[m, t, v]))]
            )
    from_table = predictor_2d.predict_file(table, top_k=2)
    assert from_npy.indices == from_table.indices
    np.testing.assert_allclose(from_npy.probabilities, from_table.probabilities, atol=1e-5)


def test_a_store_of_a_mappable_layout_is_mapped_on_read(
    predictor_2d: Predictor, tmp_path: Path, trained_run_2d
) -> None:
    from skelact.data.store import write_store

    store = SkeletonStore(trained_run_2d["store"])
    samples = [store[i] for i in range(3)]
    for s in samples:
        s.keypoint = _as_mediapipe(s.keypoint)
        s.score = np.pad(s.score, ((0, 0), (0, 0), (0, 16)), constant_values=1)
    mp_store = SkeletonStore(
        write_store(tmp_path / "mp", samples, layout="mediapipe33", class_names=store.class_names)
    )
    mapped = predictor_2d.predict_store(mp_store, top_k=2)
    direct = [predictor_2d.predict_sample(store[i], top_k=2) for i in range(3)]
    assert [p.indices for p in mapped] == [p.indices for p in direct]


@pytest.mark.parametrize(
    ("array", "layout", "error", "fragment"),
    [
        (np.ones((10, 25, 2)), None, LayoutError, "25 joints, but the checkpoint expects layout 'coco17'"),
        (np.ones((10, 25, 2)), "ntu25", LayoutError, "no joint mapping from layout 'ntu25' to 'coco17'"),
        (np.ones((10, 17, 2)), "ntu25", LayoutError, "17 joints, but layout 'ntu25' has 25"),
        (np.ones((10, 17, 3)), None, FormatError, "3 coordinates per joint, the checkpoint expects 2"),
        (np.ones((0, 17, 2)), None, FormatError, "empty sequence"),
        (np.ones((1, 0, 17, 2)), None, FormatError, "empty sequence"),
        (np.ones((17, 2)), None, FormatError, "expected keypoints shaped"),
    ],
)
def test_input_the_model_cannot_take_is_one_clear_error(
    predictor_2d: Predictor, array: np.ndarray, layout: str | None, error: type, fragment: str
) -> None:
    with pytest.raises(error, match=fragment.replace("(", r"\(")):
        predictor_2d.predict_array(array.astype(np.float32), layout=layout)


def test_unsupported_file_suffix_is_refused(predictor_2d: Predictor, tmp_path: Path) -> None:
    path = tmp_path / "clip.mat"
    path.write_bytes(b"x")
    with pytest.raises(FormatError, match=r"cannot predict from a \.mat file"):
        predictor_2d.predict_file(path)


def test_predict_file_reads_an_ntu_skeleton_file(trained_run: dict[str, Path], shared_data: Path) -> None:
    path = shared_data / "ntu_rgbd_samples" / "S001C001P001R001A001.skeleton"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    prediction = Predictor.from_checkpoint(trained_run["ckpt"]).predict_file(path, top_k=2)
    assert prediction.sample_id == "S001C001P001R001A001" and len(prediction.classes) == 2


def test_multi_clip_testing_and_extra_persons_work_as_in_training(trained_run_2d: dict[str, Path]) -> None:
    import dataclasses

    predictor = Predictor.from_checkpoint(trained_run_2d["ckpt"])
    predictor.spec = dataclasses.replace(predictor.spec, num_test_clips=3)
    sample = SkeletonStore(trained_run_2d["store"])[0]
    clips = predictor.clips(sample)
    assert clips.shape == (3, predictor.spec.max_persons, predictor.spec.clip_len, 17, 3)  # x, y, score
    crowd = np.concatenate([sample.keypoint] * 3)  # more persons than the model takes: the first are kept
    scores = np.concatenate([sample.score] * 3)
    prediction = predictor.predict_array(crowd, score=scores, top_k=3)
    kept = predictor.spec.max_persons
    expected = predictor.predict_array(crowd[:kept], score=scores[:kept], top_k=3)
    assert prediction.indices == expected.indices
    np.testing.assert_allclose(prediction.probabilities, expected.probabilities, atol=1e-6)
