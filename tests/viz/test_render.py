"""Skeleton animations: 2D and 3D, GIF and MP4, labels in the corner, worst-classified samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skelact.cli.main import main
from skelact.data.store import SkeletonStore
from skelact.errors import FormatError
from skelact.evaluation.scores import ScoreFile
from skelact.skeleton import get_layout
from skelact.viz.render import render_sample
from skelact.viz.worst import render_worst, worst_samples


def _gif_frames(path: Path) -> int:
    with Image.open(path) as image:
        return image.n_frames


def test_render_2d_and_3d_gifs(synthetic_store_2d: Path, synthetic_store_3d: Path, tmp_path: Path) -> None:
    for store_path, name in ((synthetic_store_2d, "2d.gif"), (synthetic_store_3d, "3d.gif")):
        store = SkeletonStore(store_path)
        sample = store[0]
        out = render_sample(
            sample.keypoint,
            store.layout,
            tmp_path / name,
            true_label="wave",
            predicted="clap",
            max_frames=12,
            size=160,
        )
        assert _gif_frames(out) == 12
    assert not list(tmp_path.glob(".*"))


def test_render_mp4(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2", reason="MP4 output needs the video extra (OpenCV)")
    keypoint = np.random.default_rng(0).uniform(-1, 1, size=(2, 8, 17, 2)).astype(np.float32)
    keypoint[1, 4:] = 0.0  # the second person leaves
    out = render_sample(keypoint, get_layout("coco17"), tmp_path / "a.mp4", size=160)
    assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == 8


def test_render_refuses_unknown_suffix_and_bad_shapes(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"use \.gif or \.mp4"):
        render_sample(np.ones((1, 4, 17, 2)), get_layout("coco17"), tmp_path / "a.png")
    with pytest.raises(FormatError, match="expected keypoints"):
        render_sample(np.ones((1, 0, 17, 2)), get_layout("coco17"), tmp_path / "a.gif")


def test_render_command_with_a_prediction_and_the_worst_samples(
    trained_run_2d: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SkeletonStore(trained_run_2d["store"])
    code = main(
        [
            "render",
            str(store.path),
            "--sample",
            store.sample_ids[1],
            "--ckpt",
            str(trained_run_2d["ckpt"]),
            "--out",
            str(tmp_path / "s.gif"),
            "--max-frames",
            "6",
        ]
    )
    assert code == 0 and (tmp_path / "s.gif").is_file()

    probs = np.full((4, store.num_classes), 1.0 / store.num_classes, dtype=np.float32)
    probs[2, 0], probs[2, 1] = 0.0, 2.0 / store.num_classes  # sample 2: nothing on its true class 0
    scores = ScoreFile(
        sample_ids=np.array(store.sample_ids[:4]),
        labels=np.array([0, 0, 0, 0]),
        logits=np.log(probs + 1e-6),
        probs=probs,
        class_names=tuple(store.class_names),
    )
    assert worst_samples(scores, 2).tolist()[0] == 2
    written = render_worst(scores, store, tmp_path / "worst", count=2, max_frames=6)
    assert written[0].name.startswith("01_") and len(written) == 2


@pytest.mark.parametrize("coords", [2, 3])
def test_joint_values_are_drawn_as_coloured_dots(coords: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    keypoint = rng.uniform(-1, 1, (1, 4, 17, coords)).astype(np.float32)
    values = np.full((1, 4, 17), np.nan, dtype=np.float32)
    values[:, :, [8, 10]] = [0.1, 0.9]
    plain = render_sample(keypoint, get_layout("coco17"), tmp_path / "plain.gif")
    marked = render_sample(
        keypoint, get_layout("coco17"), tmp_path / "marked.gif", joint_values=values, note="masked: right_arm"
    )
    with Image.open(plain) as a, Image.open(marked) as b:
        assert np.asarray(a.convert("RGB")).tolist() != np.asarray(b.convert("RGB")).tolist()
    with pytest.raises(FormatError, match="joint values of shape"):
        render_sample(keypoint, get_layout("coco17"), tmp_path / "bad.gif", joint_values=values[:, :2])


def test_render_turns_the_declared_up_axis_upwards(
    synthetic_store_3d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import skelact.viz.render

    drawn: list[np.ndarray] = []
    monkeypatch.setattr(skelact.viz.render, "render_sample", lambda kp, *a, **k: drawn.append(kp) or a[1])
    out = str(tmp_path / "x.gif")
    assert main(["render", str(synthetic_store_3d), "--out", out]) == 0
    assert main(["render", str(synthetic_store_3d), "--out", out, "--up-axis=-z"]) == 0
    stored, turned = drawn
    np.testing.assert_allclose(turned[..., 1], -stored[..., 2])
