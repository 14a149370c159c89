"""The packed store (DESIGN.md principle 3): prepared data as one directory that loaders read in O(1).

Directory contents (format version 2; version 1 is read too):

- ``frames.f32``: float32 rows of (V, C), all samples back to back. A sample with M persons and T frames
  owns M*T consecutive rows, person-major, so rows offset + m*T + frame are one gather for any clip.
  ``frames.f16`` with float16 rows in a store written with ``dtype="float16"`` (and in every version 1
  store, whose manifest has no ``dtype``).
- ``score.f32`` / ``score.f16``: the same rows with (V,) confidences, only for stores with scores.
- ``index.npz``: per-sample ``offset`` (first row), ``length`` (T), ``persons`` (M) and ``label``.
- ``meta.json``: sample ids and per-sample meta dicts.
- ``splits.npz``: one int64 index array per split name.
- ``manifest.json``: format version, storage dtype, layout, class names, shapes, provenance, SHA-256 of
  every file and the byte sizes the frame files must have. Written last, so a directory without it is
  never a store.

A store is written into a temporary sibling directory and swapped into place (`skelact.atomic`), and
never modified after. float32 is the default because float16 changes results: on NW-UCLA its rounding
error is small on coordinates but large on frame differences (motion channels), see docs/results.md.
float16 stays an option for stores that must halve disk and page-cache use.

Opening checks every file against the manifest: sizes and the small files always, the frame files' full
SHA-256 the first time (remembered per file version, `store_verify`). Each read checks that the rows it
returns are finite, so damage that slipped past (a file changed after its check) names the sample.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path, PurePath
from typing import Any, Literal

import numpy as np

import skelact
from skelact.atomic import WorkDir, atomic_write, clean_work_dirs, recover_directory, replace_directory
from skelact.data.sample import SkeletonSample
from skelact.data.store_verify import FileCheck, check_file
from skelact.errors import ConfigError, FormatError, LayoutError, SkelactError
from skelact.skeleton import Layout, get_layout

STORE_FORMAT = "skelact-store"
STORE_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1: float16 frame files, no ``dtype`` in the manifest
DTYPES = {"float32": "f32", "float16": "f16"}  # storage dtype -> file suffix
DEFAULT_DTYPE = "float32"
INDEX_FILE = "index.npz"
META_FILE = "meta.json"
SPLITS_FILE = "splits.npz"
MANIFEST_FILE = "manifest.json"
FLOAT16_MAX = 65504.0  # largest finite IEEE half; larger values would silently become inf
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")  # also valid as a member name inside the .npz
_PREPARE_HINT = "prepare the store again with `skelact prepare`"


# ----------------------------------------------------------------------------------------------- writing


def write_store(
    out_dir: str | Path,
    samples: Iterable[SkeletonSample],
    *,
    layout: Layout | str,
    class_names: Sequence[str],
    splits: Mapping[str, Sequence[int]] | Callable[[], Mapping[str, Sequence[int]]] | None = None,
    provenance: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
    overwrite: bool = False,
    dtype: str = DEFAULT_DTYPE,
) -> Path:
    """Stream `samples` into a new store at `out_dir`, atomically; return its path.

    Samples are validated and written one at a time, so datasets larger than memory can be prepared. On any
    error nothing is left behind. An existing `out_dir` is replaced only with `overwrite=True`, and only if
    it is a store (or empty), so a mistyped path cannot delete unrelated data. `splits` and `provenance`
    may be callables, called once every sample is written: recipes that split by the kept samples'
    metadata, or record skipped inputs, only know them then. `dtype` ("float32" or "float16") is how
    keypoints and scores are stored; float16 halves the size and rounds (docs/results.md).

    A previous run that died mid-replacement is repaired first (its old store put back), and work folders
    of dead writers beside `out_dir` are deleted.
    """
    out = Path(out_dir)
    if dtype not in DTYPES:
        raise ConfigError(f"`dtype` must be one of {', '.join(DTYPES)}, got {dtype!r}")
    lay = get_layout(layout)
    names = _check_class_names(class_names)
    split_arrays = None if callable(splits) else _check_split_arrays(splits or {})
    caller_provenance = None if callable(provenance) else _jsonable(dict(provenance or {}), "provenance")
    recover_directory(out)
    clean_work_dirs(out)
    _check_target(out, overwrite)
    work = WorkDir(out, "partial")
    tmp = work.path
    try:
        stats = _write_samples(tmp, samples, lay, len(names), dtype)
        n = stats["num_samples"]
        if split_arrays is None:
            split_arrays = _check_split_arrays(splits())  # type: ignore[operator]
        if caller_provenance is None:
            caller_provenance = _jsonable(dict(provenance()), "provenance")  # type: ignore[operator]
        for name, idx in split_arrays.items():
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                bad = int(idx[(idx < 0) | (idx >= n)][0])
                raise ConfigError(f"split {name!r} has index {bad} outside 0..{n - 1} ({n} samples written)")
        _check_no_test_leak(split_arrays)
        buffer = io.BytesIO()
        np.savez(buffer, **split_arrays)
        files = dict(stats.pop("files"))
        files["splits"] = {"name": SPLITS_FILE, "sha256": _write_bytes(tmp / SPLITS_FILE, buffer.getvalue())}
        prov = {
            **caller_provenance,
            "skelact_version": skelact.__version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "counts": {k: stats[k] for k in ("num_samples", "num_frames", "num_rows")},
        }
        manifest = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "dtype": dtype,
            "layout": lay.to_dict(),
            "class_names": list(names),
            "num_samples": n,
            "num_joints": lay.num_joints,
            "num_channels": stats["num_channels"],
            "has_score": stats["has_score"],
            "max_persons": stats["max_persons"],
            "split_names": list(split_arrays),
            "files": files,
            "provenance": prov,
        }
        manifest["fingerprint"] = _fingerprint(manifest)
        _write_bytes(tmp / MANIFEST_FILE, json.dumps(manifest, indent=1).encode())
        replace_directory(work, out)
    finally:
        work.release()  # the unfinished store, or the replaced old one
    return out


def frame_file_names(dtype: str) -> tuple[str, str]:
    """(keypoint file, score file) of a store stored as `dtype`."""
    suffix = DTYPES[dtype]
    return f"frames.{suffix}", f"score.{suffix}"


def _write_samples(
    tmp: Path, samples: Iterable[SkeletonSample], lay: Layout, num_classes: int, dtype: str
) -> dict:
    """Validate and append every sample to the frame files; write index and meta. Returns counts."""
    offsets: list[int] = []
    lengths: list[int] = []
    persons: list[int] = []
    labels: list[int] = []
    ids: list[str] = []
    seen: set[str] = set()
    metas: list[str] = []
    channels: int | None = None
    has_score: bool | None = None
    rows = 0
    frames_hash, score_hash = hashlib.sha256(), hashlib.sha256()
    frames_file, score_file = frame_file_names(dtype)
    storage = np.dtype(dtype)
    with (
        atomic_write(tmp / frames_file, "wb", buffering=1 << 20) as frames_fh,
        atomic_write(tmp / score_file, "wb", buffering=1 << 20) as score_fh,
    ):
        for i, sample in enumerate(samples):
            if not isinstance(sample, SkeletonSample):
                raise FormatError(
                    f"expected a SkeletonSample, got {type(sample).__name__}", where=f"sample #{i}"
                )
            if not sample.sample_id:
                sample = dataclasses.replace(sample, sample_id=f"sample{i:06d}")
            sample.validate(num_joints=lay.num_joints, num_channels=channels, num_classes=num_classes)
            sid = sample.sample_id
            where = f"sample {sid!r}"
            if sid in seen:
                raise FormatError("sample id is used twice; ids must be unique within a store", where=where)
            seen.add(sid)
            if has_score is None:
                has_score = sample.score is not None
            elif has_score != (sample.score is not None):
                state = (
                    "has no score but earlier samples do" if has_score else "has a score, earlier samples not"
                )
                raise FormatError(
                    f"sample {state}: scores must be present for all samples or none", where=where
                )
            channels = sample.num_channels
            m, t = sample.num_persons, sample.num_frames
            _append_rows(frames_fh, frames_hash, sample.keypoint, storage, where, "keypoint")
            if sample.score is not None:
                _append_rows(score_fh, score_hash, sample.score, storage, where, "score")
            try:
                metas.append(json.dumps(sample.meta, default=_json_default))
            except (TypeError, ValueError) as err:
                raise FormatError(f"meta is not JSON-compatible: {err}", where=where) from None
            offsets.append(rows)
            lengths.append(t)
            persons.append(m)
            labels.append(sample.label)
            ids.append(sid)
            rows += m * t
    if not ids:
        raise ConfigError("no samples to write: a store needs at least one sample")
    if not has_score:
        (tmp / score_file).unlink()
    buffer = io.BytesIO()
    np.savez(
        buffer,
        offset=np.asarray(offsets, np.int64),
        length=np.asarray(lengths, np.int64),
        persons=np.asarray(persons, np.int64),
        label=np.asarray(labels, np.int64),
    )
    meta_text = '{"sample_ids": ' + json.dumps(ids) + ', "meta": [' + ", ".join(metas) + "]}"
    row_values = lay.num_joints * channels  # type: ignore[operator]
    size = storage.itemsize
    files: dict[str, Any] = {
        "frames": {"name": frames_file, "bytes": rows * row_values * size, "sha256": frames_hash.hexdigest()},
        "score": None,
        "index": {"name": INDEX_FILE, "sha256": _write_bytes(tmp / INDEX_FILE, buffer.getvalue())},
        "meta": {"name": META_FILE, "sha256": _write_bytes(tmp / META_FILE, meta_text.encode())},
    }
    if has_score:
        files["score"] = {
            "name": score_file,
            "bytes": rows * lay.num_joints * size,
            "sha256": score_hash.hexdigest(),
        }
    return {
        "num_samples": len(ids),
        "num_frames": int(sum(lengths)),
        "num_rows": rows,
        "num_channels": channels,
        "has_score": bool(has_score),
        "max_persons": max(persons),
        "files": files,
    }


def _append_rows(
    fh: io.BufferedWriter, digest: Any, values: np.ndarray, storage: np.dtype, where: str, what: str
) -> None:
    """Append rows as `storage`; float16 refuses values it cannot hold instead of storing inf (validated
    samples are finite float32 already)."""
    if storage == np.float16 and values.size and float(np.abs(values).max()) > FLOAT16_MAX:
        bad = np.argwhere(np.abs(values) > FLOAT16_MAX)[0].tolist()
        raise FormatError(
            f"{what} value {float(values[tuple(bad)])} at {bad} exceeds the float16 range ±{FLOAT16_MAX:g}",
            where=where,
            hint="store float32, or rescale the coordinates (e.g. to metres or to [-1, 1]) before preparing",
        )
    data = np.ascontiguousarray(values, dtype=storage)
    view = memoryview(data).cast("B")
    fh.write(view)
    digest.update(view)


def _check_class_names(class_names: Sequence[str]) -> tuple[str, ...]:
    if isinstance(class_names, str) or not all(isinstance(c, str) and c for c in class_names):
        raise ConfigError("class_names must be a list of non-empty strings")
    names = tuple(class_names)
    if not names:
        raise ConfigError("class_names is empty: a store needs at least one class")
    if len(set(names)) != len(names):
        dup = next(c for c in names if names.count(c) > 1)
        raise ConfigError(f"class name {dup!r} appears twice")
    return names


def _check_split_arrays(splits: Mapping[str, Sequence[int]]) -> dict[str, np.ndarray]:
    """Split names and dtypes are checked before streaming; index ranges once the sample count is known."""
    arrays: dict[str, np.ndarray] = {}
    for name, indices in splits.items():
        if not isinstance(name, str) or not _SPLIT_NAME.match(name):
            raise ConfigError(
                f"split name {name!r} is not allowed", hint="use letters, digits, '_', '.', '+' or '-'"
            )
        arr = np.asarray(indices)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise ConfigError(f"split {name!r} must be a 1-D list of integer sample indices, got {arr.dtype}")
        arrays[name] = arr.astype(np.int64)
    return arrays


def _check_no_test_leak(splits: Mapping[str, np.ndarray]) -> None:
    """A protocol's training splits (`<p>train`, `<p>train_full`, `<p>val`) share no sample with its
    `<p>test`: an overlap would train or select on test samples, whatever recipe built the splits."""
    for name, test in splits.items():
        if not (name == "test" or name.endswith("_test")):
            continue
        prefix = name[: -len("test")]
        for side in ("train", "train_full", "val"):
            other = splits.get(prefix + side)
            if other is None:
                continue
            shared = np.intersect1d(other, test)
            if shared.size:
                raise ConfigError(
                    f"splits {prefix + side!r} and {name!r} share {shared.size} sample(s) "
                    f"(indices {shared[:5].tolist()}{' ...' if shared.size > 5 else ''})",
                    hint="a test sample must not be trained or selected on: fix the split lists",
                )


def _check_target(out: Path, overwrite: bool) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if not overwrite:
        raise SkelactError(
            f"{out} already exists",
            hint="pass overwrite=True (--overwrite) to replace it, or choose another path",
        )
    is_store = out.is_dir() and (out / MANIFEST_FILE).is_file()
    if not is_store and not (out.is_dir() and not any(out.iterdir())):
        raise SkelactError(
            f"refusing to replace {out}: it is not a skelact store", hint="choose another output directory"
        )


def _fingerprint(manifest: Mapping[str, Any]) -> str:
    """One hash for the store's content: file checksums plus layout, class names and shape fields.

    Checkpoints can record it to name the exact data they were trained on; recomputing it on open also
    catches hand edits of the manifest (e.g. renamed classes).
    """
    keys = ("layout", "class_names", "num_samples", "num_joints", "num_channels", "has_score", "files")
    if "dtype" in manifest:  # version 2; version 1 fingerprints stay as they were written
        keys += ("dtype",)
    return hashlib.sha256(json.dumps({k: manifest.get(k) for k in keys}, sort_keys=True).encode()).hexdigest()


def _write_bytes(path: Path, data: bytes) -> str:
    # Synced before the store's rename, so a crash cannot leave a renamed store with empty files.
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return hashlib.sha256(data).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"{type(value).__name__} value {value!r} is not JSON-serialisable")


def _jsonable(value: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        return json.loads(json.dumps(value, default=_json_default))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{what} is not JSON-compatible: {err}") from None


# ----------------------------------------------------------------------------------------------- reading


class SkeletonStore:
    """A read-only view of a store: validated on open, memory-mapped on first read in each process.

    `verify` "once" hashes the frame files in full the first time this version of them is opened and
    remembers it (`store_verify`); "always" hashes them on every open. `verification` says what was done.
    Pickling drops the memory maps and the meta list, so DataLoader workers receive a few small arrays and
    open their own maps (without checking again); frame data is shared between processes by the page cache.
    """

    def __init__(self, path: str | Path, *, verify: Literal["once", "always"] = "once") -> None:
        if verify not in ("once", "always"):
            raise ConfigError(f"verify must be 'once' or 'always', got {verify!r}")
        self.path = Path(path)
        if not self.path.exists():
            _recover_quietly(self.path)  # a replacement that died between its two renames
        manifest = _read_manifest(self.path)
        self._manifest = manifest
        self.dtype: str = manifest.get("dtype", "float16")  # version 1 stores are float16
        self.layout: Layout = Layout.from_dict(manifest["layout"])
        self.class_names: tuple[str, ...] = tuple(manifest["class_names"])
        self.num_channels: int = int(manifest["num_channels"])
        self.has_score: bool = bool(manifest["has_score"])
        self.provenance: dict[str, Any] = manifest["provenance"]
        self.fingerprint: str = manifest["fingerprint"]
        n = int(manifest["num_samples"])
        offset, length, persons, labels = _load_index(self.path, manifest, n, len(self.class_names))
        self.labels, self.lengths, self.num_persons, self._offsets = labels, length, persons, offset
        self._rows = int(offset[-1] + length[-1] * persons[-1])
        size = np.dtype(self.dtype).itemsize
        _check_size(
            self.path, manifest["files"]["frames"], self._rows * self.num_joints * self.num_channels * size
        )
        if self.has_score:
            _check_size(self.path, manifest["files"]["score"], self._rows * self.num_joints * size)
        self.verification: tuple[FileCheck, ...] = self._check_frame_files(force=verify == "always")
        self._splits = _load_splits(self.path, manifest, n)
        self._frames: np.ndarray | None = None
        self._scores: np.ndarray | None = None
        self._meta: tuple[list[str], list[dict[str, Any]]] | None = None
        self._build_lookup()
        self._load_meta()  # validates checksum and count now, not in the first worker

    def _build_lookup(self) -> None:
        # Hot-path lookups as Python ints: list indexing and int arithmetic beat numpy scalars per call.
        columns = (self._offsets.tolist(), self.lengths.tolist(), self.num_persons.tolist())
        self._lookup: list[tuple[int, int, int]] = list(zip(*columns, strict=True))

    # ---- pickling: no memory maps, no meta list, no lookup list (rebuilt from the arrays)
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_frames=None, _scores=None, _meta=None, _lookup=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for array in (self.labels, self.lengths, self.num_persons, self._offsets, *self._splits.values()):
            _frozen(array)  # unpickled arrays come back writable
        self._build_lookup()

    # ---- descriptive attributes
    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_joints(self) -> int:
        return self.layout.num_joints

    @property
    def max_persons(self) -> int:
        return int(self.num_persons.max())

    @property
    def sample_ids(self) -> list[str]:
        return self._load_meta()[0]

    @property
    def splits(self) -> dict[str, np.ndarray]:
        return dict(self._splits)

    def split(self, name: str) -> np.ndarray:
        """Sample indices of split `name`, in the order they were written (a read-only array)."""
        try:
            return self._splits[name]
        except KeyError:
            known = ", ".join(self._splits) or "none"
            raise ConfigError(f"store {self.path} has no split {name!r} (known splits: {known})") from None

    def meta(self, i: int) -> dict[str, Any]:
        return dict(self._load_meta()[1][self._check_index(i)])

    def meta_column(self, key: str) -> np.ndarray:
        """One meta field for all samples (e.g. ``"subject"`` for carving validation by subject)."""
        metas = self._load_meta()[1]
        missing = next((i for i, m in enumerate(metas) if key not in m), None)
        if missing is not None:
            raise ConfigError(f"store {self.path}: sample {self.sample_ids[missing]!r} has no meta {key!r}")
        return np.asarray([m[key] for m in metas])

    def check_layout(self, expected: Layout | str) -> None:
        """Raise LayoutError unless the store was prepared for `expected` (same name and joints)."""
        want, have = get_layout(expected), self.layout
        if want.name != have.name or want.joint_names != have.joint_names:
            raise LayoutError(
                f"store {self.path} was prepared for layout {have.name} ({have.num_joints} joints), "
                f"the model expects {want.name} ({want.num_joints} joints)",
                hint="prepare the data for that layout, or pick a model config for the store's layout",
            )

    def verify(self) -> tuple[FileCheck, ...]:
        """Hash the frame files in full now (O(store size)), whatever the cache says; raise FormatError on
        a mismatch. Opening does the same once per version of the files."""
        self.verification = self._check_frame_files(force=True)
        return self.verification

    def _check_frame_files(self, *, force: bool) -> tuple[FileCheck, ...]:
        entries = [self._manifest["files"]["frames"]]
        if self.has_score:
            entries.append(self._manifest["files"]["score"])
        return tuple(check_file(self.path, entry, force=force) for entry in entries)

    # ---- samples
    def __len__(self) -> int:
        return len(self._lookup)

    def __iter__(self) -> Iterator[SkeletonSample]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: int) -> SkeletonSample:
        i = self._check_index(i)
        keypoint, score = self.read(i)
        ids, metas = self._load_meta()
        return SkeletonSample(keypoint, int(self.labels[i]), score, dict(metas[i]), ids[i])

    def read(
        self, i: int, frames: np.ndarray | None = None, max_persons: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Keypoints (M', F, V, C) and score (M', F, V) or None, as float32, for frame indices `frames`.

        `frames` may be in any order and repeat (looped or padded clips); None reads all T frames.
        M' = min(M, max_persons): padding persons to a fixed count is the clip builder's job.
        Cost is one gather of M'*F rows from the sample's view: no Python loop over persons or frames.
        """
        i = self._check_index(i)
        base, t, m = self._lookup[i]
        if max_persons is not None:
            if max_persons < 1:
                raise ConfigError(f"max_persons must be at least 1, got {max_persons}")
            m = min(m, max_persons)
        kp_rows = self._frames if self._frames is not None else self._open_maps()
        kp = kp_rows[base : base + m * t].reshape(m, t, *kp_rows.shape[1:])  # a view: nothing read yet
        sc = None if self._scores is None else self._scores[base : base + m * t].reshape(m, t, -1)
        if frames is None:
            kp, sc = kp.copy(), None if sc is None else sc.copy()
        else:
            frames = np.asarray(frames)
            if frames.ndim != 1 or frames.dtype.kind not in "iu":  # a bool mask would read frames 0 and 1
                raise ConfigError(
                    f"frames must be a 1-D integer index array, got {frames.dtype} {frames.shape}"
                )
            try:  # one gather along the frame axis; numpy checks the bounds (negatives count from the end)
                kp = kp.take(frames, axis=1)
                sc = None if sc is None else sc.take(frames, axis=1)
            except IndexError as err:
                raise ConfigError(f"bad frame indices for sample {i} with {t} frames: {err}") from None
        kp = _to_float32(kp)
        sc = None if sc is None else _to_float32(sc)
        # About 5 us per 2x64x25x3 clip; a damaged file would otherwise train into NaN weights.
        if not np.isfinite(kp).all() or (sc is not None and not np.isfinite(sc).all()):
            raise self._not_finite(i, kp, sc, frames)
        return kp, sc

    def __repr__(self) -> str:
        return (
            f"SkeletonStore({str(self.path)!r}, samples={len(self)}, layout={self.layout.name!r}, "
            f"classes={self.num_classes}, splits={list(self._splits)})"
        )

    # ---- internals
    def _not_finite(
        self, i: int, kp: np.ndarray, sc: np.ndarray | None, frames: np.ndarray | None
    ) -> FormatError:
        """The error for a read that found NaN or Inf: the store, the sample and the first bad place."""
        what, values = ("keypoint", kp) if not np.isfinite(kp).all() else ("score", sc)
        person, position, joint = np.argwhere(~np.isfinite(values))[0][:3].tolist()
        frame = position if frames is None else int(frames[position]) % self._lookup[i][1]
        sample_id = self.sample_ids[i]
        return FormatError(
            f"sample {i} ({sample_id!r}) has a non-finite {what} value (NaN or Inf) at person {person}, "
            f"frame {frame}, joint {joint}: the frame data is damaged",
            path=self.path,
            hint=f"run `skelact info {self.path} --verify`, and prepare the store again",
        )

    def _check_index(self, i: int) -> int:
        n = len(self._lookup)
        i = operator.index(i)
        if not -n <= i < n:
            raise IndexError(f"sample index {i} out of range for store {self.path} with {n} samples")
        return i % n

    def _open_maps(self) -> np.ndarray:
        """Map the frame files read-only in this process (first read after open or unpickling)."""
        shape = (self._rows, self.layout.num_joints)
        files = self._manifest["files"]
        frames = np.memmap(
            self.path / files["frames"]["name"], self.dtype, "r", shape=(*shape, self.num_channels)
        )
        if self.has_score:
            scores = np.memmap(self.path / files["score"]["name"], self.dtype, "r", shape=shape)
            self._scores = scores.view(np.ndarray)
        # A plain ndarray view (the map stays alive as its base) skips memmap's per-index subclass work.
        self._frames = frames.view(np.ndarray)
        return self._frames

    def _load_meta(self) -> tuple[list[str], list[dict[str, Any]]]:
        if self._meta is None:
            raw = _read_checked(self.path, self._manifest["files"]["meta"])
            try:
                data = json.loads(raw)
                ids, metas = data["sample_ids"], data["meta"]
            except (ValueError, KeyError, TypeError) as err:
                raise FormatError(
                    f"{META_FILE} is not valid: {err}", path=self.path, hint=_PREPARE_HINT
                ) from None
            if len(ids) != len(self._lookup) or len(metas) != len(self._lookup):
                raise FormatError(
                    f"{META_FILE} does not describe {len(self._lookup)} samples", path=self.path
                )
            self._meta = (ids, metas)
        return self._meta


def open_store(path: str | Path) -> SkeletonStore:
    """Open and validate the store at `path`."""
    return SkeletonStore(path)


def _recover_quietly(path: Path) -> None:
    """Put back an old store a dead writer left between its two renames; a reader that may not write
    there gets the usual 'does not exist' error instead."""
    with contextlib.suppress(OSError):
        recover_directory(path)


def _read_manifest(path: Path) -> dict[str, Any]:
    file = path / MANIFEST_FILE
    if not file.is_file():
        what = "does not exist" if not path.exists() else f"has no {MANIFEST_FILE}"
        raise FormatError(f"not a skelact store: the directory {what}", path=path, hint=_PREPARE_HINT)
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise FormatError(
            f"{MANIFEST_FILE} is not valid JSON: {err}", path=path, hint=_PREPARE_HINT
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != STORE_FORMAT:
        raise FormatError(f"{MANIFEST_FILE} is not a skelact store manifest", path=path)
    version = manifest.get("version")
    if version not in READABLE_VERSIONS:
        raise FormatError(
            f"store format version {version!r} is not supported "
            f"(this skelact {skelact.__version__} reads versions {', '.join(map(str, READABLE_VERSIONS))})",
            path=path,
            hint=_PREPARE_HINT,
        )
    if version >= 2 and manifest.get("dtype") not in DTYPES:
        raise FormatError(
            f"{MANIFEST_FILE} has storage dtype {manifest.get('dtype')!r}, "
            f"expected one of {', '.join(DTYPES)}",
            path=path,
            hint=_PREPARE_HINT,
        )
    required = ("layout", "class_names", "num_samples", "num_channels", "has_score", "files")
    if missing := [k for k in (*required, "fingerprint") if k not in manifest]:
        raise FormatError(f"{MANIFEST_FILE} lacks {', '.join(missing)}", path=path, hint=_PREPARE_HINT)
    _check_file_names(path, manifest)
    if _fingerprint(manifest) != manifest["fingerprint"]:
        raise FormatError(
            f"{MANIFEST_FILE} does not match its fingerprint: it was edited by hand",
            path=path,
            hint=_PREPARE_HINT,
        )
    manifest.setdefault("provenance", {})
    return manifest


def _check_file_names(path: Path, manifest: Mapping[str, Any]) -> None:
    """The manifest names the files to read; only the store's own names are accepted (never a path)."""
    frames_file, score_file = frame_file_names(manifest.get("dtype", "float16"))
    expected = {"frames": frames_file, "index": INDEX_FILE, "meta": META_FILE, "splits": SPLITS_FILE}
    if manifest["has_score"]:
        expected["score"] = score_file
    files = manifest["files"]
    for key, name in expected.items():
        entry = files.get(key) if isinstance(files, dict) else None
        if (
            not isinstance(entry, dict)
            or entry.get("name") != name
            or not isinstance(entry.get("sha256"), str)
        ):
            raise FormatError(
                f"{MANIFEST_FILE} does not list {key!r} as {name} with a SHA-256",
                path=path,
                hint=_PREPARE_HINT,
            )


def _read_checked(path: Path, entry: Mapping[str, Any]) -> bytes:
    """Read a small store file and compare its SHA-256 with the manifest's."""
    file = path / entry["name"]
    try:
        data = file.read_bytes()
    except OSError as err:
        raise FormatError(
            f"cannot read {entry['name']}: {err.strerror}", path=path, hint=_PREPARE_HINT
        ) from None
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise FormatError(
            f"{entry['name']} does not match the checksum in {MANIFEST_FILE}: "
            "the store was modified or damaged",
            path=path,
            hint=_PREPARE_HINT,
        )
    return data


def _load_npz(path: Path, entry: Mapping[str, Any]) -> dict[str, np.ndarray]:
    data = _read_checked(path, entry)  # hash the same bytes that are parsed: no check-then-read race
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError) as err:
        raise FormatError(f"{entry['name']} is not readable: {err}", path=path, hint=_PREPARE_HINT) from None


def _load_index(
    path: Path, manifest: Mapping[str, Any], n: int, num_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(offset, length, persons, label) as read-only int64 arrays, checked for shape and consistency."""
    index = _load_npz(path, manifest["files"]["index"])
    try:
        columns = [index[k] for k in ("offset", "length", "persons", "label")]
    except KeyError as err:
        raise FormatError(f"{INDEX_FILE} lacks array {err}", path=path, hint=_PREPARE_HINT) from None
    if n < 1 or any(a.shape != (n,) or a.dtype.kind not in "iu" for a in columns):
        raise FormatError(
            f"{INDEX_FILE} does not hold {n} integers per column", path=path, hint=_PREPARE_HINT
        )
    offset, length, persons, labels = (_frozen(a.astype(np.int64)) for a in columns)
    rows = length * persons
    if (length < 1).any() or (persons < 1).any() or not np.array_equal(offset, np.cumsum(rows) - rows):
        raise FormatError(f"{INDEX_FILE} offsets and sizes disagree", path=path, hint=_PREPARE_HINT)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise FormatError(
            f"{INDEX_FILE} has labels outside 0..{num_classes - 1}", path=path, hint=_PREPARE_HINT
        )
    return offset, length, persons, labels


def _load_splits(path: Path, manifest: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    splits = _load_npz(path, manifest["files"]["splits"])
    for name, idx in splits.items():
        if idx.ndim != 1 or idx.dtype.kind not in "iu" or (idx.size and (idx.min() < 0 or idx.max() >= n)):
            raise FormatError(f"split {name!r} is not a list of indices in 0..{n - 1}", path=path)
        splits[name] = _frozen(idx.astype(np.int64))
    return splits


def _check_size(path: Path, entry: Mapping[str, Any] | None, expected: int) -> None:
    if entry is None:
        raise FormatError(f"{MANIFEST_FILE} lists no score file but says the store has scores", path=path)
    file = path / entry["name"]
    if entry.get("bytes") != expected:
        raise FormatError(
            f"{MANIFEST_FILE} records {entry.get('bytes')} bytes for {entry['name']}, "
            f"index expects {expected}",
            path=path,
            hint=_PREPARE_HINT,
        )
    actual = file.stat().st_size if file.is_file() else None
    if actual != expected:
        have = "is missing" if actual is None else f"has {actual} bytes"
        raise FormatError(
            f"{entry['name']} {have}, index expects {expected}: the store is truncated or was modified; "
            "prepare it again",
            path=path,
        )


def _to_float32(rows: np.ndarray) -> np.ndarray:
    """float16 -> float32 via torch, whose cast uses F16C: numpy's is scalar code on common wheels
    (measured 14 us vs 3.5 us for a 2x64x25x3 clip, the largest cost of a read); float32 as it is.
    `rows` must be a private, writable array."""
    if rows.dtype == np.float32:
        return rows
    return _torch().from_numpy(rows).float().numpy()


@functools.cache
def _torch() -> Any:
    """torch, imported on first use: float32 stores and `skelact info` do without its 2 s import (and a
    cached module beats an import statement per read)."""
    import torch

    return torch


def _frozen(a: np.ndarray) -> np.ndarray:
    """Shared arrays are handed out directly; making them read-only stops callers corrupting the store."""
    a.flags.writeable = False
    return a
