"""2s-AGCN / MS-G3D arrays (spec 2.5): ``{train,val}_data_joint.npy`` + ``{train,val}_label.pkl``.

``*_data_joint.npy`` is float32 (N, C=3, T=300, V, M=2), already centred and rotated by the codebase's
``pre_normalization`` (spec 4.4); it is memory-mapped, never loaded whole (38 GB for NTU-60). The label file
is a pickled ``(names, labels)`` pair (PSUMNet's variant wraps it in a one-element list), often written by
Python 2, so it is read with latin-1 through the restricted unpickler. ``val`` is these codebases' name
for the official test set.

Lengths and persons. Rows are padded to 300 frames and 2 persons. The valid length is the last frame in
which any person is non-zero, + 1, so trailing zero padding is cut. 2s-AGCN's NTU preprocessing, however,
*loop-pads*: it repeats the sequence from its start up to frame 300, so those samples stay 300 frames long
(detecting and undoing loop padding is not attempted: a periodic action cannot be told from a repeat).
Persons after the last non-zero one are dropped (the absent second person is all zero in these files).
For 2D layouts (Kinetics, OpenPose-18) the third channel is the keypoint score and becomes ``score``.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.ntu_skeleton import ntu_meta_from_name
from skelact.data.formats.registry import register_format
from skelact.data.formats.safe_pickle import load_pickle
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import FormatError

NAME_SUFFIXES = (".skeleton", ".json", ".npy")


def load_agcn_labels(path: str | PathLike[str]) -> tuple[list[str], list[int]]:
    """(sample names, 0-based labels) from a label pickle; Python-2 pickles are read as latin-1."""
    path = Path(path)
    data = load_pickle(path, encoding="latin1")
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], (tuple, list)):
        data = data[0]  # PSUMNet's [(names, labels)]
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise FormatError(f"expected a pickled (names, labels) pair, got {type(data).__name__}", path=path)
    names, labels = data
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if not isinstance(names, (list, tuple)) or not isinstance(labels, (list, tuple)):
        raise FormatError("names and labels must be lists", path=path)
    if len(names) != len(labels):
        raise FormatError(f"{len(names)} names but {len(labels)} labels", path=path)
    out_names: list[str] = []
    for i, name in enumerate(names):
        if isinstance(name, bytes):
            name = name.decode("latin1")
        if not isinstance(name, str) or not name:
            raise FormatError(
                f"sample name must be a non-empty string, got {name!r}", path=path, where=f"entry {i}"
            )
        out_names.append(name)
    out_labels: list[int] = []
    for i, label in enumerate(labels):
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or label < 0:
            raise FormatError(
                f"label must be a non-negative integer, got {label!r}", path=path, where=f"entry {i}"
            )
        out_labels.append(int(label))
    return out_names, out_labels


def open_agcn_data(path: str | PathLike[str]) -> np.ndarray:
    """The (N, C, T, V, M) array, memory-mapped read-only."""
    path = Path(path)
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise FormatError(f"not a readable .npy array: {err}", path=path) from None
    if data.ndim != 5 or data.shape[1] not in (2, 3) or data.dtype.kind != "f":
        raise FormatError(
            f"expected float (N, C, T, V, M) with C = 2 or 3, got {data.dtype} {data.shape}", path=path
        )
    return data


def sample_name(name: str) -> str:
    """``S001C001P001R001A001.skeleton`` -> ``S001C001P001R001A001`` (the id PYSKL and the store use)."""
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def agcn_sample(
    data: np.ndarray,
    row: int,
    *,
    name: str,
    label: int,
    sample_id: str | None = None,
    score_channel: bool = False,
    num_classes: int | None = None,
    source: str | PathLike[str] | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> SkeletonSample:
    """Row `row` of a (N, C, T, V, M) array as a sample: trailing zero frames and absent persons removed."""
    where = f"row {row} ({name})"
    block = np.asarray(data[row], dtype=np.float32).transpose(3, 1, 2, 0)  # (M, T, V, C)
    if not np.isfinite(block).all():
        p, t, j, _ = (int(i) for i in np.argwhere(~np.isfinite(block))[0])
        raise FormatError(f"NaN or Inf at person {p}, frame {t}, joint {j}", path=source, where=where)
    present = block != 0
    frames = np.flatnonzero(present.any(axis=(0, 2, 3)))
    if frames.size == 0:
        raise SkipItem(f"{source} ({where}): every value is zero, no skeleton")
    persons = int(np.flatnonzero(present.any(axis=(1, 2, 3)))[-1]) + 1
    block = np.ascontiguousarray(block[:persons, : int(frames[-1]) + 1])
    score = None
    if score_channel:
        if block.shape[-1] != 3:
            raise FormatError(
                f"a score channel needs C = 3, the array has C = {block.shape[-1]}", path=source
            )
        block, score = np.ascontiguousarray(block[..., :2]), np.ascontiguousarray(block[..., 2])
    sid = sample_id or sample_name(name)
    meta: dict[str, Any] = {"source": str(source) if source is not None else "", "name": name, "row": row}
    meta.update(ntu_meta_from_name(sid))
    meta.update(extra_meta or {})
    return SkeletonSample(keypoint=block, label=label, score=score, meta=meta, sample_id=sid).validate(
        num_classes=num_classes, source=source
    )


@register_format("agcn-npy", description="2s-AGCN / MS-G3D *_data_joint.npy (N, 3, 300, V, 2) + *_label.pkl")
def read_agcn_split(
    data_path: str | PathLike[str],
    label_path: str | PathLike[str] | None = None,
    *,
    score_channel: bool = False,
) -> list[SkeletonSample]:
    """One split (e.g. ``val_data_joint.npy`` with ``val_label.pkl`` next to it) as samples."""
    data_path = Path(data_path)
    if label_path is None:
        label_path = data_path.with_name(data_path.name.replace("_data_joint.npy", "_label.pkl"))
    names, labels = load_agcn_labels(label_path)
    data = open_agcn_data(data_path)
    if data.shape[0] != len(names):
        raise FormatError(f"{data.shape[0]} rows but {len(names)} labels in {label_path}", path=data_path)
    return [
        agcn_sample(data, i, name=names[i], label=labels[i], score_channel=score_channel, source=data_path)
        for i in range(len(names))
    ]
