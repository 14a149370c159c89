"""The ``rgb`` sample modality: person-centred crops of a sample's video, on the frames its clips show.

A store links a sample to its video through its meta (docs/rgb.md, "Pairing"):

- ``video``: the file, relative to ``video_root`` in the store's provenance (absolute paths are kept);
- ``video_box`` (optional): a fixed pixel box (x0, y0, x1, y1) around the person, for stores whose
  keypoints are not image pixels (NTU's 3D skeletons: the box comes from the files' colour-image joints),
  with ``video_box_size`` (H, W), the frame size it refers to, so a downscaled copy of the video works;
- ``video_frames`` (optional): the video frame of each stored frame, when preparation dropped frames.

Crop rule, per clip: the box around every person's visible joints (non-zero, score above `min_score`) over
all frames of the clip, grown by `padding` of its size on each side, made square on its longer side,
clamped to the frame (a square larger than the frame's shorter side shrinks to it; then it is shifted
inside), and resized to `size` x `size`. A clip where nobody is visible gets the centred square. One box
per clip, not per frame, so the crops keep the person's motion, as the keypoints do.

Decoding uses OpenCV (``opencv-python-headless``, the `video` extra): already a dependency of skelact's
video path (which estimated the J-HMDB poses from the very same decoded frames), and it decodes AVI and
MP4. Frames are read in order up to the last one needed; the others are grabbed without conversion, and
each needed frame is cropped before the next is decoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.modalities import register_modality
from skelact.errors import ConfigError, FormatError, SkelactError

DEFAULT_SIZE = 112  # a CPU-friendly size; ResNet's usual 224 costs 4x more per frame
DEFAULT_PADDING = 0.25
VIDEO_HINT = 'install the video extra: pip install "skelact[video]" (OpenCV)'


def opencv() -> Any:
    """The `cv2` module, or one clear error saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise SkelactError("the rgb modality decodes videos with OpenCV", hint=VIDEO_HINT) from None
    return cv2


def video_path(store: Any, index: int, root: str | Path | None = None) -> Path:
    """The video file linked to sample `index`: its ``video`` meta resolved against `root` (default: the
    store's ``video_root``, else the store's folder)."""
    meta = store.meta(index)
    name = meta.get("video")
    if not name:
        raise ConfigError(
            f"sample {store.sample_ids[index]!r} of store {store.path} has no video link (meta 'video')",
            hint="prepare the store with its videos: docs/rgb.md lists the pairing rules",
        )
    path = Path(str(name))
    if path.is_absolute():
        return path
    base = root if root is not None else store.provenance.get("video_root", store.path)
    return Path(base) / path


def decode_frames(path: Path, wanted: np.ndarray) -> Iterator[np.ndarray]:
    """BGR uint8 frames (H, W, 3) for the sorted unique frame numbers `wanted`, one at a time.

    Reads sequentially up to the last wanted frame (seeking is unreliable in many AVI files and buys
    little on short clips); frames not wanted are only grabbed, never converted. Frames are yielded one by
    one so that a caller crops each before the next is decoded: a 1080p frame is 6 MB."""
    cv2 = opencv()
    if not path.is_file():
        raise FormatError("video file does not exist", path=path, hint="check the store's video_root")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise FormatError("OpenCV cannot open this video", path=path, hint="convert it to .mp4 or .avi")
        position = 0
        for target in wanted.tolist():
            while position < target:
                if not capture.grab():
                    break
                position += 1
            ok, frame = capture.read() if position == target else (False, None)
            if not ok:
                raise FormatError(
                    f"the video has {position} readable frames, frame {target} was asked for",
                    path=path,
                    hint="the video does not match its skeleton sample (docs/rgb.md, Pairing)",
                )
            position += 1
            yield frame
    finally:
        capture.release()


def square_box(box: np.ndarray | None, image_size: tuple[int, int], padding: float) -> tuple[int, int, int]:
    """(x0, y0, side) of the crop for a person box (x0, y0, x1, y1) in a (H, W) frame (module docstring)."""
    height, width = image_size
    limit = min(height, width)
    if box is None:
        side = limit
        cx, cy = width / 2, height / 2
    else:
        x0, y0, x1, y1 = (float(v) for v in box)
        side = max(x1 - x0, y1 - y0) * (1 + 2 * padding)
        side = round(min(max(side, 1.0), limit))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = round(min(max(cx - side / 2, 0), width - side))
    top = round(min(max(cy - side / 2, 0), height - side))
    return left, top, int(side)


def person_box(keypoint: np.ndarray, score: np.ndarray | None, min_score: float = 0.0) -> np.ndarray | None:
    """(x0, y0, x1, y1) around the visible joints of (M, F, V, >=2) pixel keypoints, or None if none is."""
    xy = keypoint[..., :2]
    visible = np.abs(xy).sum(-1) > 0
    if score is not None:
        visible &= score > min_score
    if not visible.any():
        return None
    points = xy[visible]
    return np.concatenate([points.min(0), points.max(0)])


@register_modality("rgb")
class RgbCrops:
    """Reader of the ``rgb`` modality: uint8 (K, T, 3, size, size) crops for (K, T) stored frames.

    Args:
        size: side of the square crops in pixels (default 112, a CPU-sized choice).
        padding: margin added on each side of the person box, as a fraction of its size.
        root: folder the ``video`` links are relative to, overriding the store's ``video_root`` (videos
            moved since preparation).
        min_score: joints at or below this score do not count for the box.
    """

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        padding: float = DEFAULT_PADDING,
        root: str | None = None,
        min_score: float = 0.0,
    ) -> None:
        if int(size) < 1:
            raise ConfigError(f"rgb crop size must be a positive number of pixels, got {size}")
        if not 0.0 <= float(padding) <= 2.0:
            raise ConfigError(f"rgb padding must be in [0, 2] (a fraction of the person box), got {padding}")
        self.size, self.padding, self.root, self.min_score = int(size), float(padding), root, float(min_score)

    def __call__(self, store: Any, index: int, frames: np.ndarray) -> np.ndarray:
        cv2 = opencv()
        frames = np.asarray(frames, dtype=np.int64)
        if frames.ndim != 2:
            raise ConfigError(f"rgb reader expects (K, T) frame indices, got shape {frames.shape}")
        meta = store.meta(index)
        path = video_path(store, index, self.root)
        video_frames = meta.get("video_frames")
        shown = frames if video_frames is None else np.asarray(video_frames, dtype=np.int64)[frames]
        wanted, inverse = np.unique(shown, return_inverse=True)
        positions = inverse.reshape(frames.shape)
        out = np.empty((*frames.shape, 3, self.size, self.size), dtype=np.uint8)
        boxes: list[tuple[int, int, int]] = []
        for position, frame in enumerate(decode_frames(path, wanted)):
            if not boxes:  # the frame size comes from the first decoded frame, not the header
                image_size = (int(frame.shape[0]), int(frame.shape[1]))
                for k in range(frames.shape[0]):
                    box = self._box(store, index, meta, frames[k], image_size)
                    boxes.append(square_box(box, image_size, self.padding))
            for k, t in np.argwhere(positions == position).tolist():
                left, top, side = boxes[k]
                crop = frame[top : top + side, left : left + side]
                resized = cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA)
                out[k, t] = resized[..., ::-1].transpose(2, 0, 1)  # BGR -> RGB, channels first
        return out

    def _box(
        self, store: Any, index: int, meta: dict[str, Any], frames: np.ndarray, image_size: tuple[int, int]
    ) -> np.ndarray | None:
        if "video_box" in meta:
            box = np.asarray(meta["video_box"], dtype=np.float64)
            height, width = meta.get("video_box_size", image_size)
            return box * np.array([image_size[1] / width, image_size[0] / height] * 2)
        if store.num_channels != 2:
            raise ConfigError(
                f"sample {store.sample_ids[index]!r} of store {store.path}: {store.num_channels}D keypoints "
                "and no 'video_box' in its meta, so the person's place in the video is unknown",
                hint="2D stores must hold pixel coordinates; 3D stores need a video_box (docs/rgb.md)",
            )
        keypoint, score = store.read(index, np.unique(frames))
        return person_box(keypoint, score, self.min_score)
