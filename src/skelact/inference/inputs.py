"""Reading prediction input: arrays and files of any supported per-clip format become one `SkeletonSample`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError
from skelact.skeleton.layout import Layout

# Per-clip file formats a predictor reads directly, by suffix; datasets go through `skelact prepare`.
FILE_SUFFIXES = {
    ".npy": "custom-npy",
    ".csv": "keypoint-table",
    ".json": "keypoint-table",
    ".skeleton": "ntu",
}


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
    path: str | Path, layout: Layout, *, score_channel: bool = False, format: str | None = None
) -> SkeletonSample:
    """One clip file as a sample: `.npy` (custom data), `.csv`/`.json` keypoint tables (joints named in
    `layout`), or an NTU `.skeleton` file (denoised with the ``ctrgcn`` preset)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError("file does not exist", path=path)
    kind = format or FILE_SUFFIXES.get(path.suffix.lower())
    if kind == "custom-npy":
        from skelact.data.formats.custom_npy import read_custom_npy

        return read_custom_npy(path, score_channel=score_channel)
    if kind == "keypoint-table":
        from skelact.data.formats.keypoint_table import read_keypoint_table

        return read_keypoint_table(path, layout)
    if kind == "ntu":
        from skelact.data.formats.ntu_skeleton import read_ntu_skeleton
        from skelact.data.prepare.ntu_presets import apply_preset, get_preset

        result = apply_preset(read_ntu_skeleton(path), get_preset("ctrgcn"))
        return SkeletonSample(result.keypoint, meta={"source": str(path)}, sample_id=path.stem)
    raise FormatError(
        f"cannot predict from a {path.suffix or 'suffix-less'} file",
        path=path,
        hint=f"give one of {', '.join(FILE_SUFFIXES)} or a store; convert datasets with `skelact prepare`",
    )
