"""The ``rgb`` modality: video links, person-centred crops, frame alignment, clear errors (docs/rgb.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.datamodule import SkeletonDataModule
from skelact.data.formats.ntu_skeleton import JOINT_FIELDS, read_ntu_skeleton
from skelact.data.modalities import modality_reader
from skelact.data.prepare.ntu import NtuOptions
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.rgb import RgbCrops, person_box, square_box
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

cv2 = pytest.importorskip("cv2", reason="the video extra is not installed (`make video`): no OpenCV")

NTU_SAMPLE = "S001C001P001R001A001"


# ----------------------------------------------------------------------------------------------- crop rule


def test_square_box_pads_squares_and_stays_inside_the_frame() -> None:
    left, top, side = square_box(np.array([100.0, 50.0, 140.0, 130.0]), (240, 320), padding=0.25)
    assert side == 120  # the longer side (80) grown by 25 % on each side
    assert (left, top) == (60, 30)  # centred on the box
    left, top, side = square_box(np.array([300.0, 200.0, 318.0, 238.0]), (240, 320), padding=0.25)
    assert left + side <= 320 and top + side <= 240  # shifted inside at the corner
    assert square_box(np.array([0.0, 0.0, 320.0, 240.0]), (240, 320), 0.5)[2] == 240  # clamped side
    assert square_box(None, (240, 320), 0.25) == (40, 0, 240)  # nobody visible: the centred square


def test_person_box_ignores_missing_and_unconfident_joints() -> None:
    keypoint = np.array([[[[10, 20], [30, 40], [0, 0], [500, 500]]]], dtype=np.float32)
    score = np.array([[[1.0, 1.0, 1.0, 0.0]]], dtype=np.float32)
    np.testing.assert_array_equal(person_box(keypoint, score), [10, 20, 30, 40])
    assert person_box(np.zeros_like(keypoint), None) is None


# ----------------------------------------------------------------------------------------------- NTU clip


@pytest.fixture(scope="module")
def ntu_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> SkeletonStore:
    raw = shared_data / "ntu_rgbd_samples"
    if not (raw / f"{NTU_SAMPLE}_rgb.avi").is_file():
        pytest.skip(f"{raw} has no {NTU_SAMPLE}_rgb.avi")
    out = tmp_path_factory.mktemp("ntu_rgb") / "store"
    run = RunOptions(raw=raw, out=out, workers=1, progress=False, val_fraction=0.0)
    get_preparer("ntu").prepare(run, NtuOptions())
    return SkeletonStore(out)


def test_ntu_prepare_links_the_rgb_video_beside_the_skeleton(ntu_store: SkeletonStore) -> None:
    index = ntu_store.sample_ids.index(NTU_SAMPLE)
    meta = ntu_store.meta(index)
    assert meta["video"] == f"{NTU_SAMPLE}_rgb.avi"
    assert meta["video_box_size"] == [1080, 1920]
    assert Path(ntu_store.provenance["video_root"], meta["video"]).is_file()
    others = [i for i in range(len(ntu_store)) if i != index]
    assert all("video" not in ntu_store.meta(i) for i in others)  # no video beside them, no link


def test_ntu_crops_follow_the_person_on_the_frames_asked_for(ntu_store: SkeletonStore) -> None:
    index = ntu_store.sample_ids.index(NTU_SAMPLE)
    frames = np.array([[9, 2, 5]])
    crops = RgbCrops(size=64)(ntu_store, index, frames)
    assert crops.shape == (1, 3, 3, 64, 64) and crops.dtype == np.uint8
    # The colour-image joints of the skeleton file (kept by the reader) lie inside the crop square.
    recording = read_ntu_skeleton(Path(ntu_store.meta(index)["source"]))
    colour = recording.record_joints[..., [JOINT_FIELDS.index("color_x"), JOINT_FIELDS.index("color_y")]]
    shown = colour[np.isin(recording.record_frame, frames)].reshape(-1, 2)
    left, top, side = square_box(np.asarray(ntu_store.meta(index)["video_box"]), (1080, 1920), 0.25)
    assert (shown[:, 0] >= left).all() and (shown[:, 0] <= left + side).all()
    assert (shown[:, 1] >= top).all() and (shown[:, 1] <= top + side).all()
    assert side < 1080  # a person crop, not the whole frame
    # Each crop is that frame's crop: decode frame 9 and 2 ourselves and compare.
    capture = cv2.VideoCapture(str(Path(ntu_store.provenance["video_root"], ntu_store.meta(index)["video"])))
    decoded = []
    for _ in range(10):
        decoded.append(cv2.cvtColor(capture.read()[1], cv2.COLOR_BGR2RGB))
    capture.release()
    for t, frame in enumerate((9, 2)):
        expected = cv2.resize(
            decoded[frame][top : top + side, left : left + side], (64, 64), interpolation=cv2.INTER_AREA
        )
        np.testing.assert_array_equal(crops[0, t], expected.transpose(2, 0, 1))
    assert not np.array_equal(crops[0, 0], crops[0, 1])


def test_a_missing_video_is_one_error_naming_the_file(ntu_store: SkeletonStore, tmp_path: Path) -> None:
    index = ntu_store.sample_ids.index(NTU_SAMPLE)
    with pytest.raises(FormatError, match="video file does not exist") as err:
        RgbCrops(root=str(tmp_path))(ntu_store, index, np.zeros((1, 2), np.int64))
    assert f"{NTU_SAMPLE}_rgb.avi" in str(err.value)
    other = next(i for i in range(len(ntu_store)) if i != index)
    with pytest.raises(ConfigError, match="has no video link"):
        RgbCrops()(ntu_store, other, np.zeros((1, 2), np.int64))


# ----------------------------------------------------------------------------------------------- custom data


def _write_video(path: Path, frames: int, square: tuple[int, int, int]) -> None:
    """Frame t: grey level 20 t, with a white square (x, y, side) — the "person"."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (96, 64))
    x, y, side = square
    for t in range(frames):
        image = np.full((64, 96, 3), 20 * t, np.uint8)
        image[y : y + side, x : x + side] = 255
        writer.write(image)
    writer.release()


@pytest.fixture(scope="module")
def custom_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Custom-npy clips with a ``video`` column; the keypoints are the corners of each video's square."""
    root = tmp_path_factory.mktemp("custom_rgb")
    raw = root / "clips"
    (raw / "videos").mkdir(parents=True)
    lines = ["file,label,video,split"]
    for i, (x, y) in enumerate([(4, 8), (60, 30), (30, 20), (50, 10)]):
        corners = np.array([[x, y], [x + 20, y], [x, y + 20], [x + 20, y + 20]], np.float32)
        np.save(raw / f"c{i}.npy", np.broadcast_to(corners, (8, 4, 2)).copy())
        _write_video(raw / "videos" / f"c{i}.avi", 8, (x, y, 21))
        lines.append(f"c{i}.npy,{'ab'[i % 2]},videos/c{i}.avi,{'train' if i < 2 else 'test'}")
    (raw / "labels.csv").write_text("\n".join(lines) + "\n")
    (root / "quad.json").write_text(
        '{"name": "quad", "joint_names": ["a", "b", "c", "d"], "parents": ["a", "a", "a", "a"]}'
    )
    from skelact.cli.main import main

    flags = ["--layout", str(root / "quad.json"), "--val-fraction", "0", "--workers", "1", "--no-progress"]
    code = main(["prepare", "custom-npy", "--raw", str(raw), "--out", str(root / "store"), *flags])
    assert code == 0
    return root / "store"


def test_custom_data_video_column_gives_centred_crops(custom_store: Path) -> None:
    store = SkeletonStore(custom_store)
    assert store.provenance["video_root"].endswith("clips")
    index = store.sample_ids.index("c1")
    crops = modality_reader("rgb", {"size": 32, "padding": 0.25})(store, index, np.array([[6, 1]]))
    assert crops.shape == (1, 2, 3, 32, 32)
    centre, border = crops[0, :, :, 12:20, 12:20], crops[0, :, :, :3, :3]
    assert centre.min() > 200  # the square fills the middle of the crop
    assert abs(int(border[0].mean()) - 120) < 25 and abs(int(border[1].mean()) - 20) < 25  # frames 6, 1


def test_datamodule_loads_rgb_on_the_clip_frames_with_its_options(custom_store: Path) -> None:
    data = SkeletonDataModule(
        str(custom_store),
        train_split="train",
        val_split=None,
        clip_len=4,
        batch_size=2,
        modalities=["rgb"],
        modality_options={"rgb": {"size": 24}},
    )
    item = data.train_dataloader().dataset[(0, 0)]
    assert item["rgb"].shape == (1, 4, 3, 24, 24)
    background = item["rgb"][0, :, :, :2, :2].float().mean(dim=(1, 2, 3)).numpy()
    np.testing.assert_allclose(background, 20 * item["frames"][0].numpy(), atol=25)  # the same frames


def test_bad_rgb_options_stop_at_construction(custom_store: Path) -> None:
    with pytest.raises(ConfigError, match="bad options for sample modality 'rgb'"):
        SkeletonDataModule(str(custom_store), val_split=None, modality_options={"rgb": {"sise": 24}})
    with pytest.raises(ConfigError, match="rgb crop size"):
        SkeletonDataModule(str(custom_store), val_split=None, modality_options={"rgb": {"size": 0}})
    with pytest.raises(ConfigError, match="takes no options"):
        modality_reader("frame_index", {"size": 3})


def test_a_csv_naming_a_missing_video_fails_at_prepare(custom_store: Path, tmp_path: Path) -> None:
    from skelact.data.formats.clip_labels import read_clip_labels

    raw = custom_store.parent / "clips"
    csv = tmp_path / "labels.csv"
    csv.write_text("file,label,video\nc0.npy,a,videos/nope.avi\n")
    with pytest.raises(FormatError, match=r"nope\.avi"):
        read_clip_labels(csv, raw)
