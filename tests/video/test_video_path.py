"""The whole video path on a real NTU RGB+D clip: MediaPipe landmarks on every frame, tracking, windows
from a model trained on the synthetic 2D set, a timeline JSON, an overlay video of the input's length and the
keypoints saved in the custom-data format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.video.mediapipe_pose import mediapipe_available

VIDEO = "ntu_rgbd_samples/S001C001P001R001A001_rgb.avi"
FRAMES = 103


@pytest.fixture(scope="module")
def video(shared_data: Path) -> Path:
    path = shared_data / VIDEO
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    if not mediapipe_available():
        pytest.skip("the video extra is not installed (`make video`): MediaPipe cannot be imported")
    pytest.importorskip("cv2", reason="the video extra is not installed (`make video`): no OpenCV")
    return path


def test_video_to_timeline_overlay_and_keypoints(
    video: Path, trained_run_2d: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    out, timeline, keypoints = tmp_path / "overlay.mp4", tmp_path / "timeline.json", tmp_path / "kp.npy"
    args = ["video", str(video), "--ckpt", str(trained_run_2d["ckpt"]), "--window", "32", "--stride", "16"]
    code = main([*args, "--out", str(out), "--json", str(timeline), "--save-keypoints", str(keypoints)])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    assert "person 0: frames 0-102 " in stdout

    record = json.loads(timeline.read_text())
    assert record["frames"] == FRAMES and record["frames_with_people"] == FRAMES  # landmarks on every frame
    assert record["pose_layout"] == "mediapipe33" and record["model_layout"] == "coco17"
    assert [(w["start_frame"], w["end_frame"]) for w in record["windows"]] == [
        (0, 31),
        (16, 47),
        (32, 63),
        (48, 79),
        (64, 95),
        (71, 102),
    ]
    segment = record["segments"][0]
    assert {"person", "start_frame", "end_frame", "label", "score"} <= set(segment)
    assert segment["start_frame"] == 0 and segment["label"] == record["windows"][0]["label"]

    saved = np.load(keypoints)
    assert saved.shape == (1, FRAMES, 33, 3)
    assert np.all(np.abs(saved[0, :, :, :2]).sum((-1, -2)) > 0)  # every frame has landmarks
    assert 0 < saved[..., 0].max() <= record["width"] and 0 < saved[..., 1].max() <= record["height"]

    capture = cv2.VideoCapture(str(out))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count == FRAMES
    assert not list(tmp_path.glob(".*"))  # every output was renamed into place


def test_a_missing_video_is_one_clear_error(trained_run_2d: dict[str, Path], tmp_path: Path, capsys) -> None:
    pytest.importorskip("cv2", reason="the video extra is not installed")
    code = main(["video", str(tmp_path / "none.mp4"), "--ckpt", str(trained_run_2d["ckpt"])])
    err = capsys.readouterr().err
    assert code == 2 and "none.mp4" in err and "does not exist" in err and len(err.strip().splitlines()) == 1
