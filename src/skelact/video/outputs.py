"""What `skelact video` writes: the timeline JSON, the overlay video and the extracted keypoints.

Every file is written to a temporary name beside it and renamed into place, so a failed run leaves nothing
half-written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from skelact.atomic import atomic_write
from skelact.skeleton.layout import get_layout
from skelact.video.io import read_frames
from skelact.video.recognize import VideoRecognition
from skelact.video.windows import label_at_frames
from skelact.viz.overlay import draw_frame
from skelact.viz.video_writer import VideoWriter


def timeline_record(result: VideoRecognition, video: str | Path, extra: dict[str, Any]) -> dict[str, Any]:
    info = result.poses.info
    return {
        "video": str(video),
        "frames": info.frame_count,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "pose_layout": result.poses.layout,
        "persons": result.poses.person_ids,
        "frames_with_people": result.poses.frames_with_people,
        **extra,
        "segments": result.segments,
        "windows": [w.to_dict() for w in result.windows],
    }


def write_json(path: str | Path, data: dict[str, Any]) -> Path:
    path = Path(path)
    with atomic_write(path, "w") as stream:
        json.dump(data, stream, indent=1)
        stream.write("\n")
    return path


def save_keypoints(path: str | Path, result: VideoRecognition) -> Path:
    """The tracked image keypoints in the custom-data `.npy` format: (M, T, V, 3) = x, y in pixels and the
    confidence as the last channel (prepare with ``--score-channel`` and the backend's ``--layout``, give the
    frame size as the labels CSV's width/height)."""
    path = Path(path)
    if path.suffix != ".npy":
        path = path.with_suffix(".npy")
    poses = result.poses
    array = np.concatenate([poses.keypoint, poses.score[..., None]], axis=-1).astype(np.float32)
    with atomic_write(path, "wb") as stream:
        np.save(stream, array, allow_pickle=False)
    return path


def write_overlay(path: str | Path, video: str | Path, result: VideoRecognition) -> Path:
    """Every input frame with the tracked skeletons and each person's current label drawn on it."""
    poses = result.poses
    info = poses.info
    layout = get_layout(poses.layout)
    shown = label_at_frames(result.windows, info.frame_count)
    writer = VideoWriter(path, info.fps, (info.width, info.height))
    try:
        for index, frame in enumerate(read_frames(video)):
            if index >= info.frame_count:
                break
            labels = [
                f"{shown[p][index][0]} {shown[p][index][1]:.2f}" if p in shown and shown[p][index][0] else ""
                for p in poses.person_ids
            ]
            writer.write(
                draw_frame(
                    frame, poses.keypoint[:, index], poses.score[:, index], layout, labels, poses.person_ids
                )
            )
    except BaseException:
        writer.abort()
        raise
    return writer.close()
