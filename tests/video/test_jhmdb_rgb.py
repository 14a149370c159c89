"""`skelact prepare jhmdb-rgb`: official splits, MediaPipe poses per clip, video links, resumable cache."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.jhmdb_ddnet import JHMDB21_CLASSES
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.rgb import RgbCrops
from skelact.data.store import SkeletonStore
from skelact.errors import FormatError
from skelact.video.jhmdb_rgb import JhmdbRgbOptions, find_jhmdb_videos, read_official_splits
from skelact.video.mediapipe_pose import mediapipe_available

# Two of the shortest clips (18 frames in their headers), of two classes.
CLIPS = (
    "catch/LearnToShootFromTheMaster_catch_f_nm_np1_ba_med_1.avi",
    "pick/NoCountryForOldMen_pick_u_nm_np1_le_goo_0.avi",
)


@pytest.fixture(scope="module")
def jhmdb_rgb(shared_data: Path) -> Path:
    path = shared_data / "jhmdb_rgb"
    if not (path / "splits.zip").is_file():
        pytest.skip(f"{path} is absent")
    return path


def test_official_splits_have_the_published_sizes(jhmdb_rgb: Path) -> None:
    membership = read_official_splits(jhmdb_rgb / "splits.zip")
    for k in (1, 2, 3):
        parts = [m.get(f"split{k}") for m in membership.values()]
        assert parts.count("train") + parts.count("test") == 928
    split1 = [m["split1"] for m in membership.values()]
    assert (split1.count("train"), split1.count("test")) == (660, 268)
    videos = find_jhmdb_videos(jhmdb_rgb)
    assert len(videos) == 928 and {v.class_name for v in videos} == set(JHMDB21_CLASSES)


def _mini_raw(source: Path, root: Path, listed: tuple[str, ...]) -> Path:
    """A raw folder with the two clips (linked), every class folder, and a splits.zip naming `listed`."""
    raw = root / "raw"
    for name in JHMDB21_CLASSES:
        (raw / "videos" / name).mkdir(parents=True)
    for clip in CLIPS:
        (raw / "videos" / clip).symlink_to(source / "videos" / clip)
    with zipfile.ZipFile(raw / "splits.zip", "w") as archive:
        for k in (1, 2, 3):
            for class_name in ("catch", "pick"):
                lines = [
                    f"{Path(c).name} {1 if i == 0 else 2}" for i, c in enumerate(listed) if class_name in c
                ]
                archive.writestr(f"splits/{class_name}_test_split{k}.txt", "\n".join(lines) + "\n")
    return raw


def test_a_split_naming_a_missing_clip_is_one_error(jhmdb_rgb: Path, tmp_path: Path) -> None:
    raw = _mini_raw(jhmdb_rgb, tmp_path, (*CLIPS, "catch/absent_catch_clip.avi"))
    with pytest.raises(FormatError, match=r"absent_catch_clip\.avi"):
        find_jhmdb_videos(raw)


def test_two_clips_become_a_store_linked_to_their_videos(jhmdb_rgb: Path, tmp_path: Path) -> None:
    if not mediapipe_available():
        pytest.skip("the video extra is not installed (`make video`): MediaPipe cannot be imported")
    raw = _mini_raw(jhmdb_rgb, tmp_path, CLIPS)
    out = tmp_path / "store"
    run = RunOptions(raw=raw, out=out, workers=1, progress=False, val_fraction=0.0)
    summary = get_preparer("jhmdb-rgb").prepare(run, JhmdbRgbOptions())
    assert summary.written == 2 and summary.splits["split1_train"] == 1 and summary.splits["split1_test"] == 1
    store = SkeletonStore(out)
    assert store.layout.name == "mediapipe33" and store.class_names[store.labels[0]] == "catch"
    keypoint, score = store.read(0)
    # The header says 18 frames, OpenCV decodes 15: the store holds the frames that decode, as the RGB
    # reader sees them, so stored frame t is decoded frame t.
    assert keypoint.shape[1:] == (15, 33, 2) and score is not None and (score > 0.5).mean() > 0.5
    seen = keypoint[0][score[0] > 0.5]
    assert (seen[:, 0] >= 0).all() and (seen[:, 0] <= 320).all()  # pixels of the 320x240 frame
    assert store.meta(0)["video"] == f"videos/{CLIPS[0]}" and store.meta(0)["img_shape"] == [240, 320]
    crops = RgbCrops(size=32)(store, 0, np.array([[0, 14]]))
    assert crops.shape == (1, 2, 3, 32, 32)
    # Resumable: the per-clip poses are cached beside the store; a rerun reads them instead of MediaPipe.
    cached = sorted(
        p.relative_to(Path(f"{out}.poses")).as_posix() for p in Path(f"{out}.poses").rglob("*.npz")
    )
    assert cached == [c.replace(".avi", ".npz") for c in CLIPS]
    again = RunOptions(raw=raw, out=tmp_path / "again", workers=1, progress=False, val_fraction=0.0)
    get_preparer("jhmdb-rgb").prepare(again, JhmdbRgbOptions(cache=Path(f"{out}.poses")))
    np.testing.assert_array_equal(SkeletonStore(tmp_path / "again").read(1)[0], store.read(1)[0])
