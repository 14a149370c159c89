"""The video pipeline with a stand-in multi-person pose backend (no MediaPipe needed): tracking two people,
model input in the checkpoint's coordinates and layout, the overlay and the timeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.errors import LayoutError
from skelact.inference import Predictor
from skelact.skeleton import get_layout
from skelact.video.io import VideoInfo
from skelact.video.pose import FramePoses, PoseEstimator
from skelact.video.recognize import TrackedPoses, extract_poses, model_input, recognise_video

cv2 = pytest.importorskip("cv2", reason="the video extra is not installed (`make video`): no OpenCV")

WIDTH, HEIGHT, FRAMES = 160, 120, 24


class TwoWalkers:
    """Two people in MediaPipe's layout walking towards each other; returned in alternating order."""

    layout = "mediapipe33"
    multi_person = True

    def __init__(self) -> None:
        self.frame = 0
        offsets = np.random.default_rng(0).uniform(-10, 10, size=(2, 33, 2))
        self.offsets = offsets.astype(np.float32)

    def __call__(self, frame_rgb: np.ndarray) -> FramePoses:
        assert frame_rgb.shape == (HEIGHT, WIDTH, 3)
        t = self.frame
        self.frame += 1
        centres = np.array([[30 + 2 * t, 60], [130 - 2 * t, 64]], dtype=np.float32)
        keypoint = centres[:, None] + self.offsets
        order = [0, 1] if t % 2 else [1, 0]
        return FramePoses(
            keypoint[order], np.full((2, 33), 0.9, np.float32), np.zeros((2, 33, 3), np.float32)
        )

    def close(self) -> None:
        pass


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "in.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (WIDTH, HEIGHT))
    for t in range(FRAMES):
        writer.write(np.full((HEIGHT, WIDTH, 3), 10 * t % 255, np.uint8))
    writer.release()
    return path


def test_two_people_are_tracked_recognised_and_drawn(
    video: Path, trained_run_2d: dict[str, Path], tmp_path: Path
) -> None:
    from skelact.video.outputs import timeline_record, write_json, write_overlay

    estimator = TwoWalkers()
    assert isinstance(estimator, PoseEstimator)
    poses = extract_poses(video, estimator)
    assert poses.keypoint.shape == (2, FRAMES, 33, 2) and poses.frames_with_people == FRAMES
    # Each track keeps its walker (x only grows, or only shrinks), despite the alternating order.
    mean_x = poses.keypoint[..., 0].mean(-1)
    steps = np.sign(np.diff(mean_x, axis=1))
    assert sorted(steps[:, 0]) == [-1, 1] and np.all(steps == steps[:, :1])

    predictor = Predictor.from_checkpoint(trained_run_2d["ckpt"])
    result = recognise_video(predictor, poses, window=16, stride=8)
    assert sorted({w.person for w in result.windows}) == [0, 1]
    assert [(w.start_frame, w.end_frame) for w in result.windows if w.person == 0] == [(0, 15), (8, 23)]

    record = timeline_record(result, video, {"window": 16})
    write_json(tmp_path / "t.json", record)
    assert json.loads((tmp_path / "t.json").read_text())["persons"] == [0, 1]
    out = write_overlay(tmp_path / "out.mp4", video, result)
    assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES


def _tracked(with_world: bool) -> TrackedPoses:
    keypoint = np.zeros((1, 4, 33, 2), np.float32)
    keypoint[0, :, :, 0], keypoint[0, :, :, 1] = 1920.0, 540.0  # right edge, middle row
    keypoint[0, 2] = 0.0  # frame 2: nobody
    score = (keypoint[..., 0] > 0).astype(np.float32)
    world = np.ones((1, 4, 33, 3), np.float32) if with_world else None
    return TrackedPoses(keypoint, score, world, [0], "mediapipe33", VideoInfo(1920, 1080, 30.0, 4), 3)


def test_model_input_normalises_2d_by_the_frame_and_maps_the_layout(trained_run_2d: dict[str, Path]) -> None:
    predictor = Predictor.from_checkpoint(trained_run_2d["ckpt"])  # coco17, normalize: none
    keypoint, score, meta = model_input(predictor, _tracked(with_world=False))
    assert keypoint.shape == (1, 4, get_layout("coco17").num_joints, 2)
    np.testing.assert_allclose(keypoint[0, 0, 0], [1.0, 0.0])  # [-1, 1] by the frame size
    assert np.all(keypoint[0, 2] == 0) and np.all(score[0, 2] == 0)  # missing stays missing
    assert meta["img_shape"] == (1080, 1920)


def test_3d_checkpoints_need_world_landmarks(trained_run: dict[str, Path]) -> None:
    predictor = Predictor.from_checkpoint(trained_run["ckpt"])  # ntu25 3D
    keypoint, _, _ = model_input(predictor, _tracked(with_world=True))
    assert keypoint.shape == (1, 4, 25, 3)
    with pytest.raises(LayoutError, match="takes 3D keypoints but the pose backend gives 2D only"):
        model_input(predictor, _tracked(with_world=False))
