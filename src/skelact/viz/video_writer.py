"""Writing video files frame by frame with OpenCV (the `video` extra); the file appears only when complete.

It lives in `viz` (rendered animations write MP4s) so that `video`, the layer above, can use it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from skelact.atomic import PendingFile
from skelact.errors import FormatError, SkelactError

VIDEO_HINT = 'install the video extra: `make video`, or pip install "skelact[video]"'
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}


def opencv() -> Any:
    """The `cv2` module, or one clear error saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise SkelactError("video input and output need OpenCV", hint=VIDEO_HINT) from None
    return cv2


class VideoWriter:
    """Writes RGB frames to a temporary file beside `path`, renamed into place by `close()`."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        cv2 = opencv()
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC:
            raise FormatError(
                f"cannot write {suffix or 'suffix-less'} video", path=path, hint="use .mp4 or .avi"
            )
        self._pending = PendingFile(self.path)
        self.tmp = self._pending.path
        self.size = size
        self._writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*FOURCC[suffix]), fps, size)
        if not self._writer.isOpened():
            self._pending.discard()
            raise SkelactError(f"OpenCV cannot write {self.path}")
        self.frames = 0

    def write(self, frame_rgb: np.ndarray) -> None:
        cv2 = opencv()
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(frame_rgb), cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> Path:
        self._writer.release()
        return self._pending.commit()

    def abort(self) -> None:
        self._writer.release()
        self._pending.discard()
