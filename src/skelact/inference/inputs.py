"""Reading prediction input: arrays and files of any supported per-clip format become one `SkeletonSample`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelact.data.formats.registry import ClipRequest, clip_suffixes, get_format
from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError
from skelact.skeleton.layout import Layout


def sample_from_array(
    array: np.ndarray, *, score: np.ndarray | None = None, sample_id: str = "array"
) -> SkeletonSample:
    """(T, V, C) or (M, T, V, C) keypoints as a sample; an empty or misshapen array is one clear error."""
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[None]
        score = None if score is None else np.asarray(score)[None]
    if array.ndim != 4:
        raise FormatError(
            f"expected keypoints shaped (T, V, C) or (M, T, V, C), got {array.shape}", where=sample_id
        )
    if array.size == 0:
        raise FormatError(f"empty sequence: keypoint shape {array.shape}", where=sample_id)
    return SkeletonSample(keypoint=array.astype(np.float32), score=score, sample_id=sample_id)


def read_clip_file(
    path: str | Path,
    layout: Layout,
    *,
    score_channel: bool = False,
    format: str | None = None,
    ntu_preset: str = "ctrgcn",
) -> SkeletonSample:
    """One clip file as a sample, read by the format registered for its suffix (or named by `format`):
    `.npy` (custom data), `.csv`/`.json` keypoint tables (joints named in `layout`), or an NTU
    `.skeleton` file (denoised with `ntu_preset`, the preset the model was trained with)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError("file does not exist", path=path)
    if format is not None:
        info = get_format(
            "ntu-skeleton" if format == "ntu" else format
        )  # "ntu": the name before the registry
    else:
        info = clip_suffixes().get(path.suffix.lower())
    if info is not None and info.read_clip is None:
        raise FormatError(f"format {info.name!r} does not hold one clip per file", path=path)
    if info is None:
        raise FormatError(
            f"cannot predict from a {path.suffix or 'suffix-less'} file",
            path=path,
            hint=f"give one of {', '.join(clip_suffixes())} or a store; "
            "convert datasets with `skelact prepare`",
        )
    assert info.read_clip is not None
    return info.read_clip(path, ClipRequest(layout, score_channel=score_channel, ntu_preset=ntu_preset))
