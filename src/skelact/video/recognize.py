"""Video → poses → person tracks → per-person sliding-window actions: the `skelact video` pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skelact.errors import FormatError, LayoutError
from skelact.inference.predictor import Predictor
from skelact.skeleton.layout import get_layout
from skelact.skeleton.mapping import map_keypoints
from skelact.video.io import VideoInfo, read_frames, video_info
from skelact.video.pose import FramePoses, PoseEstimator
from skelact.video.tracker import PersonTracker, tracks_to_arrays
from skelact.video.windows import WindowPrediction, merge_segments, recognise_windows


@dataclass
class TrackedPoses:
    """A video's people as skelact arrays: pixel keypoint (M, T, V, 2), score (M, T, V), metric world
    (M, T, V, 3) or None, in the backend's `layout`; `person_ids` are the tracker's ids, main actor first."""

    keypoint: np.ndarray
    score: np.ndarray
    world: np.ndarray | None
    person_ids: list[int]
    layout: str
    info: VideoInfo
    frames_with_people: int


@dataclass
class VideoRecognition:
    poses: TrackedPoses
    windows: list[WindowPrediction]
    segments: list[dict[str, Any]] = field(default_factory=list)


def extract_poses(
    path: str | Path,
    estimator: PoseEstimator,
    *,
    min_track_frames: int = 5,
    progress: Callable[[int], None] | None = None,
) -> TrackedPoses:
    """Run the pose backend on every frame and track the people across frames."""
    info = video_info(path)
    tracker = PersonTracker()
    num_frames = frames_with_people = 0
    for index, frame in enumerate(read_frames(path)):
        poses: FramePoses = estimator(frame)
        tracker.update(index, poses)
        frames_with_people += int(poses.num_people > 0)
        num_frames = index + 1
        if progress is not None:
            progress(num_frames)
    if num_frames == 0:
        raise FormatError("the video has no readable frames", path=path)
    keypoint, score, world, ids = tracks_to_arrays(tracker.tracks, num_frames, min_frames=min_track_frames)
    info = VideoInfo(info.width, info.height, info.fps, num_frames)  # the count read, not the header's
    return TrackedPoses(keypoint, score, world, ids, estimator.layout, info, frames_with_people)


def model_input(predictor: Predictor, poses: TrackedPoses) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The tracked poses as the checkpoint expects them: 2D models get image coordinates normalised to
    [-1, 1] by the frame size (DESIGN.md conventions; pixels plus the frame size when the checkpoint
    normalises by image itself), 3D models get metric world keypoints; then the layout is mapped."""
    info = poses.info
    meta: dict[str, Any] = {"img_shape": (info.height, info.width)}
    present = (poses.score > 0)[..., None]
    if predictor.num_coords == 3:
        if poses.world is None:
            raise LayoutError(
                "the checkpoint takes 3D keypoints but the pose backend gives 2D only",
                hint="use a checkpoint trained on 2D keypoints",
            )
        keypoint = poses.world * present
    elif predictor.spec.normalize == "image":
        keypoint = poses.keypoint * present
    else:
        half = np.array([info.width / 2, info.height / 2], dtype=np.float32)
        keypoint = (poses.keypoint / half - 1.0) * present
    score = poses.score
    if get_layout(poses.layout).name != predictor.layout.name:
        keypoint, score = map_keypoints(keypoint, poses.layout, predictor.layout, score)
    return keypoint.astype(np.float32), score.astype(np.float32), meta


def recognise_video(
    predictor: Predictor,
    poses: TrackedPoses,
    *,
    window: int = 64,
    stride: int = 16,
    top_k: int = 3,
) -> VideoRecognition:
    """Sliding-window recognition of every tracked person."""
    if not poses.person_ids:
        return VideoRecognition(poses, [], [])
    keypoint, score, meta = model_input(predictor, poses)
    windows = recognise_windows(
        predictor,
        keypoint,
        score,
        window=window,
        stride=stride,
        person_ids=poses.person_ids,
        meta=meta,
        top_k=top_k,
    )
    return VideoRecognition(poses, windows, merge_segments(windows))
