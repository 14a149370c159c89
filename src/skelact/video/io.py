"""Reading and writing video frames with OpenCV (the `video` extra); writes are atomic."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.errors import FormatError, SkelactError

VIDEO_HINT = 'install the video extra: `make video`, or pip install "skelact[video]"'
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise SkelactError("video input and output need OpenCV", hint=VIDEO_HINT) from None
    return cv2


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int


def video_info(path: str | Path) -> VideoInfo:
    cv2 = _cv2()
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
    cv2 = _cv2()
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
    cv2 = _cv2()
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


class VideoWriter:
    """Writes RGB frames to a temporary file beside `path`, renamed into place by `close()`."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        cv2 = _cv2()
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC:
            raise FormatError(
                f"cannot write {suffix or 'suffix-less'} video", path=path, hint="use .mp4 or .avi"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp{suffix}")
        self.size = size
        self._writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*FOURCC[suffix]), fps, size)
        if not self._writer.isOpened():
            raise SkelactError(f"OpenCV cannot write {self.path}")
        self.frames = 0

    def write(self, frame_rgb: np.ndarray) -> None:
        self._writer.write(_cv2().cvtColor(np.ascontiguousarray(frame_rgb), _cv2().COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> Path:
        self._writer.release()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        self._writer.release()
        self.tmp.unlink(missing_ok=True)
