"""Your own data as `.npy` arrays: one file per clip, shaped (T, V, C) or (M, T, V, C).

T frames, V joints in the order of the chosen layout, C = 2 (x, y) or 3 (x, y, z) coordinates; M persons
(a missing person or joint is all zeros). With ``score_channel=True`` the last channel is a keypoint
confidence in [0, 1] instead (C = 3 for 2D + score, 4 for 3D + score) and becomes the sample's score.
Arrays are read with ``allow_pickle=False``: an object array is refused, never unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.registry import ClipRequest, register_format
from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError


def read_npy_clip(path: Path, request: ClipRequest) -> SkeletonSample:
    """One ``.npy`` file as a clip, for prediction (`skelact.data.formats.registry.ClipRequest`)."""
    return read_custom_npy(path, score_channel=request.score_channel)


@register_format(
    "custom-npy",
    description="your own clips: one .npy array (T,V,C) or (M,T,V,C) per clip",
    suffixes=(".npy",),
    read_clip=read_npy_clip,
)
def read_custom_npy(
    path: str | os.PathLike[str],
    *,
    num_joints: int | None = None,
    layout_name: str | None = None,
    score_channel: bool = False,
    label: int = -1,
    sample_id: str | None = None,
    meta: dict[str, Any] | None = None,
    listed_at: str | None = None,
) -> SkeletonSample:
    """Read one clip; `listed_at` (e.g. ``"labels.csv line 7"``) is added to errors to say who named it."""
    path = Path(path)
    suffix = f" (listed in {listed_at})" if listed_at else ""

    # Advice goes into the message, not a hint: the runner re-wraps a worker's error with its own hint.
    def fail(message: str) -> FormatError:
        return FormatError(message + suffix, path=path)

    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise fail("file does not exist (paths in the labels CSV are relative to --raw)") from None
    except (OSError, ValueError, EOFError) as err:
        raise fail(f"not a readable .npy array ({err})") from None
    if not isinstance(array, np.ndarray):  # np.load gives an NpzFile for .npz archives
        raise fail("expected a .npy array, got an .npz archive")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise fail(f"expected numbers, got dtype {array.dtype}")
    if array.ndim == 3:
        array = array[None]
    elif array.ndim != 4:
        raise fail(f"expected shape (T, V, C) or (M, T, V, C), got {array.shape} ({array.ndim} axes)")
    m, t, v, c = array.shape
    coords = c - 1 if score_channel else c
    if m == 0 or t == 0:
        raise fail(f"empty sequence: shape {array.shape} has no {'persons' if m == 0 else 'frames'}")
    if num_joints is not None and v != num_joints:
        named = f"layout {layout_name!r}" if layout_name else "the layout"
        raise fail(
            f"{v} joints (axis -2 of shape {array.shape}), but {named} has {num_joints}; pick the layout "
            "whose joint order the arrays follow, or declare one in a layout file"
        )
    if coords not in (2, 3):
        expected = "3 (x, y, score) or 4 (x, y, z, score)" if score_channel else "2 (x, y) or 3 (x, y, z)"
        raise fail(f"last axis has {c} values per joint, expected {expected}")
    data = array.astype(np.float32, copy=False)
    bad = ~np.isfinite(data)
    if bad.any():
        p, f, j, k = np.argwhere(bad)[0]
        raise fail(f"NaN or Inf at person {p}, frame {f}, joint {j}, channel {k}; write missing joints as 0")
    keypoint = np.ascontiguousarray(data[..., :coords])
    score = np.ascontiguousarray(data[..., coords]) if score_channel else None
    if score is not None and ((score < 0) | (score > 1)).any():  # a confidence; 5 or -3 means a wrong channel
        p, f, j = np.argwhere((score < 0) | (score > 1))[0]
        raise fail(
            f"score {score[p, f, j]:g} at person {p}, frame {f}, joint {j} is outside [0, 1]; the last "
            "channel must be a keypoint confidence (rescale percentages by 1/100)"
        )
    sample_meta = dict(meta or {})
    sample_meta.setdefault("source", str(path))
    return SkeletonSample(
        keypoint=keypoint,
        label=label,
        score=score,
        meta=sample_meta,
        sample_id=sample_id if sample_id is not None else path.stem,
    ).validate(source=path)
