"""Reading video frames with OpenCV (the `video` extra); writing is `skelact.viz.video_writer.VideoWriter`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.errors import FormatError
from skelact.viz.video_writer import opencv


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int


def video_info(path: str | Path) -> VideoInfo:
    cv2 = opencv()
    capture = _open(path)
    try:
        return VideoInfo(
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            float(capture.get(cv2.CAP_PROP_FPS)) or 30.0,
            int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
        )
    finally:
        capture.release()


def read_frames(path: str | Path) -> Iterator[np.ndarray]:
    """RGB uint8 frames (H, W, 3), one at a time, so long videos never sit in memory whole."""
    cv2 = opencv()
    capture = _open(path)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


def _open(path: str | Path) -> Any:
    cv2 = opencv()
    path = Path(path)
    if not path.is_file():
        raise FormatError("video file does not exist", path=path)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise FormatError(
            "OpenCV cannot open this video", path=path, hint="convert it to .mp4 (H.264) or .avi"
        )
    return capture
