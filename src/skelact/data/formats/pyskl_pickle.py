"""PYSKL / MMAction2 skeleton annotation pickles (spec 2.3): read (plain and Kinetics "compressed") and write.

A file is either ``{"split": {name: [frame_dir, ...]}, "annotations": [dict, ...]}`` or a plain list of
annotation dicts (PYSKL's custom 2D extraction). An annotation holds ``frame_dir``, ``label`` (0-based),
``total_frames``, ``keypoint`` (M, T, V, C) (float16 in the released files), for 2D ``keypoint_score``
(M, T, V) and ``img_shape`` / ``original_shape`` (height, width). Everything is unpickled through
`safe_pickle`, so a file naming any code is refused instead of run.

Kinetics-400 "compressed" annotations carry no keypoints: ``raw_file`` names a kpfile (a pickled dict
``frame_dir -> {"keypoint": (N, V, 3) rows of x, y, score}``), ``frame_inds`` the frame of each row and
``box_score`` the detector score of each row. `decompress_pose` rebuilds (M, T, V, 2) + (M, T, V) exactly as
PYSKL's ``DecompressPose`` does: frames without a pose are squeezed out, a frame's rows fill person slots in
row order, and when some frame has more than 10 rows every frame's slots are re-ordered by summed keypoint
score and cut to 10, so slots are per-frame ranks, not identities.

Split names. PYSKL calls the official *test* sets ``*_val``; skelact keeps ``*_val`` for validation carved
from training, so names are mapped both ways (`store_split_name`, `pyskl_split_name`):

========================  ==========================
PYSKL                     store
========================  ==========================
``xsub_train``            ``xsub_train``
``xsub_val``              ``xsub_test``
``train1`` / ``test1``    ``split1_train`` / ``split1_test``
``train`` / ``val``       ``train`` / ``test``
anything else             unchanged
========================  ==========================
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skelact.atomic import atomic_write
from skelact.data.formats.ntu_skeleton import ntu_meta_from_name
from skelact.data.formats.registry import register_format
from skelact.data.formats.safe_pickle import load_pickle
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import ConfigError, FormatError

MAX_PERSONS_COMPRESSED = 10  # PYSKL DecompressPose(max_person=10)
FLOAT16_MAX = 65504.0
#: Contract meta keys copied between annotations and samples when they hold plain integers.
META_INT_KEYS = ("subject", "view", "setup", "replication", "action", "repetition")
_SHAPE_KEYS = ("img_shape", "original_shape")


# ----------------------------------------------------------------------------------------------- names


def store_split_name(pyskl_name: str) -> str:
    """Store name of a PYSKL split: ``*_val`` (its test set) -> ``*_test``, ``trainK`` -> ``splitK_train``."""
    if match := re.fullmatch(r"(train|test)(\d+)", pyskl_name):
        return f"split{match.group(2)}_{match.group(1)}"
    if pyskl_name == "val":
        return "test"
    if pyskl_name.endswith("_val"):
        return pyskl_name[: -len("_val")] + "_test"
    return pyskl_name


def pyskl_split_name(store_name: str) -> str | None:
    """PYSKL's name for a store split, or None for splits PYSKL has no name for (carved ``*_val``)."""
    if match := re.fullmatch(r"split(\d+)_(train|test)", store_name):
        return f"{match.group(2)}{match.group(1)}"
    if store_name == "test":
        return "val"
    if store_name.endswith("_test"):
        return store_name[: -len("_test")] + "_val"
    if store_name == "val" or store_name.endswith("_val"):
        return None
    return store_name


# ----------------------------------------------------------------------------------------------- reading


@dataclass
class PysklFile:
    """A loaded annotation file: the annotation dicts and the split lists (None for a plain list)."""

    path: Path
    annotations: list[dict[str, Any]]
    split: dict[str, list[str]] | None

    def sample_id(self, index: int) -> str:
        return annotation_id(self.annotations[index], index, self.path)


def load_pyskl_pickle(path: str | PathLike[str]) -> PysklFile:
    """Unpickle (safely) and check the top-level structure; annotations are checked one by one later."""
    path = Path(path)
    data = load_pickle(path)
    split: dict[str, list[str]] | None = None
    if isinstance(data, dict):
        missing = [k for k in ("split", "annotations") if k not in data]
        if missing:
            raise FormatError(
                f"top-level dict lacks {', '.join(repr(k) for k in missing)} "
                "(expected {'split': {...}, 'annotations': [...]} or a list of annotations)",
                path=path,
            )
        split = _check_split(data["split"], path)
        annotations = data["annotations"]
    elif isinstance(data, list):
        annotations = data
    else:
        raise FormatError(
            f"expected a dict with 'split' and 'annotations', or a list, got {type(data).__name__}",
            path=path,
        )
    if not isinstance(annotations, list):
        raise FormatError(f"'annotations' must be a list, got {type(annotations).__name__}", path=path)
    for i, ann in enumerate(annotations):
        if not isinstance(ann, dict):
            raise FormatError(
                f"annotation must be a dict, got {type(ann).__name__}", path=path, where=f"annotation {i}"
            )
    return PysklFile(path=path, annotations=annotations, split=split)


def _check_split(split: Any, path: Path) -> dict[str, list[str]]:
    if not isinstance(split, dict):
        raise FormatError(
            f"'split' must be a dict of name -> list of ids, got {type(split).__name__}", path=path
        )
    result: dict[str, list[str]] = {}
    for name, ids in split.items():
        if not isinstance(name, str) or not isinstance(ids, (list, tuple)):
            raise FormatError(
                f"split {name!r} must map a name to a list of ids", path=path, where="key 'split'"
            )
        if not all(isinstance(x, str) for x in ids):
            raise FormatError(f"split {name!r} holds a non-string id", path=path, where="key 'split'")
        result[name] = list(ids)
    return result


def annotation_id(ann: Mapping[str, Any], index: int, path: str | PathLike[str] | None = None) -> str:
    """The sample id: ``frame_dir`` (PYSKL's identifier), else ``filename`` (as PYSKL falls back to it)."""
    for key in ("frame_dir", "filename"):
        value = ann.get(key)
        if value is not None:
            if not isinstance(value, str) or not value:
                raise FormatError(
                    f"{key!r} must be a non-empty string, got {value!r}",
                    path=path,
                    where=f"annotation {index}",
                )
            return value
    raise FormatError("missing key 'frame_dir' (the sample id)", path=path, where=f"annotation {index}")


def is_compressed(ann: Mapping[str, Any]) -> bool:
    """True for Kinetics "compressed" entries: (N, V, 3) rows with ``frame_inds``, not (M, T, V, C)."""
    if "frame_inds" not in ann:
        return False
    kp = ann.get("keypoint")
    return kp is None or (isinstance(kp, np.ndarray) and kp.ndim == 3)


def annotation_to_sample(
    ann: Mapping[str, Any],
    index: int,
    *,
    path: str | PathLike[str] | None = None,
    num_joints: int | None = None,
    num_classes: int | None = None,
    kpfiles: KpfileReader | None = None,
    box_thr: float | None = None,
) -> SkeletonSample:
    """One annotation dict -> `SkeletonSample` (float32 keypoint, score for 2D, meta).

    Raises `FormatError` naming the file and ``annotation <index> (<frame_dir>)`` for missing keys, wrong
    shapes, NaN or a label outside ``0..num_classes-1``. Compressed entries need `kpfiles` unless their
    rows are inline; `box_thr` drops rows whose ``box_score`` is below it first.
    """
    sample_id = annotation_id(ann, index, path)
    where = f"annotation {index} ({sample_id})"

    def fail(message: str) -> FormatError:
        return FormatError(message, path=path, where=where)

    if "label" not in ann:
        raise fail("missing key 'label'")
    label = ann["label"]
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise fail(f"label must be an integer, got {label!r}")
    label = int(label)
    if label < 0 or (num_classes is not None and label >= num_classes):
        top = "" if num_classes is None else f"..{num_classes - 1}"
        raise fail(f"label {label} outside 0{top}")
    if is_compressed(ann):
        keypoint, score = _decompressed(ann, sample_id, kpfiles, box_thr, fail)
    else:
        keypoint, score = _plain(ann, fail)
    if keypoint.shape[0] == 0 or keypoint.shape[1] == 0:
        raise SkipItem(f"{where}: no person in any frame (keypoint shape {tuple(keypoint.shape)})")
    _check_values(keypoint, score, num_joints, fail)
    meta: dict[str, Any] = {"source": str(path) if path is not None else ""}
    meta.update(ntu_meta_from_name(sample_id))
    for key in META_INT_KEYS:
        value = ann.get(key)
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            meta[key] = int(value)
    for key in _SHAPE_KEYS:
        if key in ann:
            meta[key] = _shape_pair(ann[key], key, fail)
    sample = SkeletonSample(keypoint=keypoint, label=label, score=score, meta=meta, sample_id=sample_id)
    return sample.validate(num_joints=num_joints, num_classes=num_classes, source=path)


def _check_values(
    keypoint: np.ndarray, score: np.ndarray | None, num_joints: int | None, fail: Callable[[str], FormatError]
) -> None:
    """Joint count and finiteness, reported with the annotation's place (validate() would say "sample")."""
    if num_joints is not None and keypoint.shape[2] != num_joints:
        raise fail(f"expected {num_joints} joints, got {keypoint.shape[2]} (keypoint shape {keypoint.shape})")
    bad = ~np.isfinite(keypoint)
    if bad.any():
        p, f, j, _ = (int(i) for i in np.argwhere(bad)[0])
        raise fail(f"keypoint has NaN or Inf (first at person {p}, frame {f}, joint {j})")
    if score is not None and not np.isfinite(score).all():
        p, f, j = (int(i) for i in np.argwhere(~np.isfinite(score))[0])
        raise fail(f"keypoint_score has NaN or Inf (first at person {p}, frame {f}, joint {j})")


def _plain(
    ann: Mapping[str, Any], fail: Callable[[str], FormatError]
) -> tuple[np.ndarray, np.ndarray | None]:
    if "keypoint" not in ann:
        raise fail("missing key 'keypoint' (and no 'frame_inds': not a compressed entry either)")
    kp = _array(ann["keypoint"], "keypoint", fail)
    if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
        raise fail(f"keypoint must be (M, T, V, 2 or 3), got shape {kp.shape}")
    total = ann.get("total_frames")
    if total is not None and (not isinstance(total, (int, np.integer)) or int(total) != kp.shape[1]):
        raise fail(f"total_frames {total!r} disagrees with keypoint's {kp.shape[1]} frames")
    score = None
    if "keypoint_score" in ann:
        score = _array(ann["keypoint_score"], "keypoint_score", fail)
        if score.shape != kp.shape[:3]:
            raise fail(f"keypoint_score must have shape {kp.shape[:3]} to match keypoint, got {score.shape}")
        score = score.astype(np.float32)
    return kp.astype(np.float32), score


def _array(value: Any, key: str, fail: Callable[[str], FormatError]) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        got = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise fail(f"{key!r} must be a numeric numpy array, got {got}")
    return value


def _shape_pair(value: Any, key: str, fail: Callable[[str], FormatError]) -> list[int]:
    try:
        pair = [int(v) for v in value]
    except (TypeError, ValueError):
        pair = []
    if len(pair) != 2:
        raise fail(f"{key!r} must be (height, width), got {value!r}")
    return pair


# ----------------------------------------------------------------------------------------------- compressed


class KpfileReader:
    """Finds and loads kpfiles (pickled ``frame_dir -> {"keypoint": (N, V, 3)}``), keeping a few in memory.

    ``raw_file`` in an annotation is the path the file was written with; it is looked up as given (relative
    to `folder`), then by its base name in `folder`. `folder` defaults to the annotation file's folder
    and, failing that, its ``kpfiles`` sub-folder.
    """

    def __init__(self, folders: Sequence[str | PathLike[str]], cache_size: int = 2) -> None:
        self.folders = [Path(f) for f in folders]
        self.cache_size = cache_size
        self._cache: dict[Path, dict[str, Any]] = {}

    def locate(self, raw_file: str) -> Path:
        raw = Path(raw_file)
        candidates = [raw] if raw.is_absolute() else []
        for folder in self.folders:
            if not raw.is_absolute():
                candidates.append(folder / raw)
            candidates.append(folder / raw.name)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        looked = ", ".join(str(f) for f in self.folders) or "nowhere"
        raise ConfigError(
            f"kpfile {raw_file!r} not found (looked in {looked})",
            hint="pass --kpfiles DIR, the folder of the kpfiles",
        )

    def rows(self, raw_file: str, frame_dir: str) -> np.ndarray:
        path = self.locate(raw_file)
        content = self._cache.get(path)
        if content is None:
            content = load_pickle(path)
            if not isinstance(content, dict):
                raise FormatError(
                    f"a kpfile must be a dict frame_dir -> {{'keypoint': ...}}, got {type(content).__name__}",
                    path=path,
                )
            if len(self._cache) >= self.cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[path] = content
        if frame_dir not in content:
            raise FormatError(f"no entry for {frame_dir!r}", path=path)
        entry = content[frame_dir]
        rows = entry.get("keypoint") if isinstance(entry, dict) else entry
        if not isinstance(rows, np.ndarray):
            raise FormatError(
                "entry must be {'keypoint': (N, V, 3) array}", path=path, where=f"entry {frame_dir!r}"
            )
        return rows


def _decompressed(
    ann: Mapping[str, Any],
    sample_id: str,
    kpfiles: KpfileReader | None,
    box_thr: float | None,
    fail: Callable[[str], FormatError],
) -> tuple[np.ndarray, np.ndarray]:
    rows = ann.get("keypoint")
    if rows is None:
        raw_file = ann.get("raw_file")
        if not isinstance(raw_file, str):
            raise fail("compressed entry has neither 'keypoint' rows nor a 'raw_file' naming its kpfile")
        if kpfiles is None:
            raise fail(f"keypoints are in kpfile {raw_file!r}: pass the kpfiles folder (--kpfiles DIR)")
        rows = kpfiles.rows(raw_file, sample_id)
    rows = _array(rows, "keypoint", fail)
    if rows.ndim != 3 or rows.shape[-1] != 3:
        raise fail(f"compressed keypoint rows must be (N, V, 3) with x, y, score; got shape {rows.shape}")
    frame_inds = np.asarray(ann["frame_inds"])
    if frame_inds.ndim != 1 or frame_inds.dtype.kind not in "iu" or frame_inds.shape[0] != rows.shape[0]:
        raise fail(
            f"frame_inds must be {rows.shape[0]} integers (one per row), "
            f"got {frame_inds.dtype} {frame_inds.shape}"
        )
    if box_thr is not None:
        if "box_score" not in ann:
            raise fail("box threshold given but the entry has no 'box_score'")
        box_score = np.asarray(ann["box_score"], dtype=np.float64)
        if box_score.shape != frame_inds.shape:
            raise fail(
                f"box_score must have one value per row ({rows.shape[0]}), got shape {box_score.shape}"
            )
        keep = box_score >= box_thr
        rows, frame_inds = rows[keep], frame_inds[keep]
    if frame_inds.size and (np.diff(frame_inds.astype(np.int64)) < 0).any():
        raise fail("frame_inds must be non-decreasing (rows grouped by frame, as PYSKL requires)")
    if not np.isfinite(rows).all():
        raise fail("keypoint rows hold NaN or Inf")
    return decompress_pose(frame_inds, rows)


def decompress_pose(
    frame_inds: np.ndarray, rows: np.ndarray, max_person: int = MAX_PERSONS_COMPRESSED
) -> tuple[np.ndarray, np.ndarray]:
    """(keypoint (M, T, V, 2), score (M, T, V)) float32 from rows (N, V, 3) and their frame indices.

    Reproduces PYSKL ``DecompressPose(squeeze=True, max_person=10)``: T = number of distinct frames, a
    frame's rows take slots 0, 1, ... in row order, M = most rows in any frame; if M > `max_person`, each
    frame's slots are sorted by summed score (descending; ties keep row order) and cut to `max_person`.
    Values are rounded to float16 first, as PYSKL's buffers are float16. Empty input gives M = T = 0.
    """
    v = rows.shape[1]
    if rows.shape[0] == 0:
        return np.zeros((0, 0, v, 2), np.float32), np.zeros((0, 0, v), np.float32)
    frames, frame_of_row = np.unique(frame_inds, return_inverse=True)
    counts = np.bincount(frame_of_row, minlength=frames.size)
    first_row = np.cumsum(counts) - counts  # rows are grouped by frame (checked by the caller)
    slot = np.arange(rows.shape[0]) - first_row[frame_of_row]
    m, t = int(counts.max()), frames.size
    half = rows.astype(np.float16)
    keypoint = np.zeros((m, t, v, 2), np.float16)
    score = np.zeros((m, t, v), np.float16)
    keypoint[slot, frame_of_row] = half[..., :2]
    score[slot, frame_of_row] = half[..., 2]
    if m > max_person:
        totals = score.astype(np.float32).sum(-1)  # (M, T)
        totals[np.arange(m)[:, None] >= counts[None, :]] = -np.inf  # empty slots stay last
        order = np.argsort(-totals, axis=0, kind="stable")[:max_person]  # (max_person, T)
        keypoint = np.take_along_axis(keypoint, order[:, :, None, None], axis=0)
        score = np.take_along_axis(score, order[:, :, None], axis=0)
    return keypoint.astype(np.float32), score.astype(np.float32)


# ----------------------------------------------------------------------------------------------- registry


@register_format(
    "pyskl-pickle", description="PYSKL / MMAction2 annotation pickle (plain or Kinetics compressed)"
)
def read_pyskl_pickle(
    path: str | PathLike[str], *, kpfiles: str | PathLike[str] | None = None, box_thr: float | None = None
) -> list[SkeletonSample]:
    """Every annotation of one file as samples (entries without any person raise, as for a preparer)."""
    loaded = load_pyskl_pickle(path)
    folders = [kpfiles] if kpfiles is not None else [loaded.path.parent, loaded.path.parent / "kpfiles"]
    reader = KpfileReader(folders)
    return [
        annotation_to_sample(ann, i, path=loaded.path, kpfiles=reader, box_thr=box_thr)
        for i, ann in enumerate(loaded.annotations)
    ]


# ----------------------------------------------------------------------------------------------- writing


def sample_to_annotation(sample: SkeletonSample, *, dtype: Any = np.float16) -> dict[str, Any]:
    """A PYSKL annotation dict for `sample`; keypoints in `dtype` (float16 as PYSKL ships them).

    2D samples get ``keypoint_score`` (ones when the sample has none: PYSKL's 2D pipeline expects it) and
    their ``img_shape`` / ``original_shape`` from the meta when present. Integer contract meta (subject,
    view, ...) is written as extra keys, which PYSKL's loaders carry along unused.
    """
    kp = np.asarray(sample.keypoint)
    where = f"sample {sample.sample_id!r}"
    if np.dtype(dtype) == np.float16 and kp.size and float(np.abs(kp).max()) > FLOAT16_MAX:
        raise FormatError(
            f"keypoint exceeds the float16 range ±{FLOAT16_MAX:g}", where=where, hint="write float32"
        )
    ann: dict[str, Any] = {
        "frame_dir": sample.sample_id,
        "label": int(sample.label),
        "total_frames": int(kp.shape[1]),
        "keypoint": np.ascontiguousarray(kp, dtype=dtype),
    }
    if sample.score is not None:
        ann["keypoint_score"] = np.ascontiguousarray(sample.score, dtype=dtype)
    elif kp.shape[-1] == 2:
        ann["keypoint_score"] = np.ones(kp.shape[:3], dtype=dtype)
    for key in _SHAPE_KEYS:
        if key in sample.meta:
            ann[key] = tuple(int(v) for v in sample.meta[key])
    for key in META_INT_KEYS:
        value = sample.meta.get(key)
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            ann[key] = int(value)
    return ann


def write_pyskl_pickle(
    path: str | PathLike[str],
    annotations: Sequence[Mapping[str, Any]],
    split: Mapping[str, Sequence[str]] | None = None,
    *,
    protocol: int = 4,
) -> Path:
    """Write ``{"split", "annotations"}`` (the plain list when `split` is None) atomically; return the path.

    Split ids must name annotations' ``frame_dir``; a dangling id is a `ConfigError` (PYSKL would drop it
    silently at load time).
    """
    path = Path(path)
    ids = {ann.get("frame_dir") for ann in annotations}
    data: Any = [dict(a) for a in annotations]
    if split is not None:
        for name, members in split.items():
            missing = next((m for m in members if m not in ids), None)
            if missing is not None:
                raise ConfigError(f"split {name!r} names {missing!r}, which has no annotation")
        data = {"split": {name: list(members) for name, members in split.items()}, "annotations": data}
    with atomic_write(path, "wb") as handle:
        pickle.dump(data, handle, protocol=protocol)
    return path
