"""CTR-GCN ``.npz`` (spec 2.4): ``x_train`` / ``x_test`` float32 (N, 300, 150), one-hot ``y_*``.

A frame's 150 values are 2 actors x 25 joints x (x, y, z), actor-major; sequences are zero-padded at the end
to 300 frames. Rows carry no names: identity is row order, so samples are named ``train_000123`` /
``test_000045``. Single-actor samples differ between the two official scripts: NTU-60 leaves actor 2 all
zero, NTU-120 copies actor 1 into it. The reader drops an all-zero or an exactly copied second actor and
records which in ``meta["second_actor"]`` (``"zero"``, ``"copy"`` or ``"present"``), so both files give a
one-person sample. The valid length is the last frame with any non-zero value + 1 (the end padding is cut;
an all-zero frame inside a sequence is kept, never dropped).

Files written by skelact also hold ``skelact_ids_*``, ``skelact_length_*``, ``skelact_persons_*`` and
``skelact_class_names``: CTR-GCN's feeder reads only ``x_*`` / ``y_*`` and ignores them, and with them a
store -> npz -> store round trip is exact (ids, trailing empty frames, a genuine copy-like second actor).

Large files: ``np.savez`` stores members uncompressed, so the arrays are memory-mapped straight out of the
zip (no 7 GB load for NTU-60 X-Sub); compressed members (``savez_compressed``) are loaded into memory.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np

from skelact.atomic import atomic_write
from skelact.data.formats.registry import register_format
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import ConfigError, FormatError

NUM_ACTORS, NUM_JOINTS, NUM_COORDS = 2, 25, 3
FRAME_WIDTH = NUM_ACTORS * NUM_JOINTS * NUM_COORDS  # 150
PADDED_FRAMES = 300
PARTS = ("train", "test")
SecondActor = Literal["zero", "copy"]
#: Official convention per dataset (spec 2.4): what a single-actor sample's second actor holds.
SECOND_ACTOR_BY_DATASET: dict[str, SecondActor] = {"ntu60": "zero", "ntu120": "copy"}
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # zip local file header: signature ... name length, extra length


# ----------------------------------------------------------------------------------------------- reading


def npz_member(path: str | PathLike[str], name: str) -> np.ndarray | None:
    """Array `name` of the npz at `path` (None if absent): a read-only memory map when stored uncompressed."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise FormatError(f"not a readable .npz (zip) file: {err}", path=path) from None
    with archive:
        try:
            info = archive.getinfo(f"{name}.npy")
        except KeyError:
            return None
        stored = info.compress_type == zipfile.ZIP_STORED
    try:
        if stored:
            return _map_stored(path, info)
        with np.load(path, allow_pickle=False) as npz:
            return npz[name]
    except FormatError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, struct.error) as err:
        raise FormatError(
            f"array {name!r} is not readable: {err}", path=path, where=f"member {name}.npy"
        ) from None


def _map_stored(path: Path, info: zipfile.ZipInfo) -> np.ndarray:
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        signature, name_len, extra_len = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
        if signature != b"PK\x03\x04":
            raise FormatError("corrupt zip: bad local header", path=path, where=f"member {info.filename}")
        handle.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        offset = handle.tell()
    if dtype.hasobject:
        raise FormatError(
            "object arrays are not allowed (they need pickle)", path=path, where=f"member {info.filename}"
        )
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if offset + nbytes > path.stat().st_size:
        raise FormatError("array data is truncated", path=path, where=f"member {info.filename}")
    if nbytes == 0:
        return np.zeros(shape, dtype)
    return np.memmap(path, dtype, "r", offset=offset, shape=shape, order="F" if fortran else "C")


class CtrgcnNpz:
    """The arrays of one CTR-GCN npz, checked for shape; rows are turned into samples by `sample`."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FormatError("file does not exist", path=self.path)
        self.x: dict[str, np.ndarray] = {}
        self.labels: dict[str, np.ndarray] = {}
        self.ids: dict[str, list[str]] = {}
        self.lengths: dict[str, np.ndarray | None] = {}
        self.persons: dict[str, np.ndarray | None] = {}
        self.num_classes: int | None = None
        self.one_hot = True
        for part in PARTS:
            x, y = npz_member(self.path, f"x_{part}"), npz_member(self.path, f"y_{part}")
            if x is None and y is None:
                continue
            if x is None or y is None:
                missing = f"x_{part}" if x is None else f"y_{part}"
                raise FormatError(
                    f"array {missing!r} is missing (x_{part} and y_{part} come in pairs)", path=self.path
                )
            self._add_part(part, x, y)
        if not self.x:
            raise FormatError("no x_train / x_test arrays (not a CTR-GCN npz)", path=self.path)
        names = npz_member(self.path, "skelact_class_names")
        self.class_names = None if names is None else [str(n) for n in names.tolist()]
        self.has_ids = any(npz_member(self.path, f"skelact_ids_{part}") is not None for part in self.x)

    def _add_part(self, part: str, x: np.ndarray, y: np.ndarray) -> None:
        where = f"x_{part}"
        if x.ndim != 3 or x.shape[2] != FRAME_WIDTH or x.shape[1] == 0:
            raise FormatError(
                f"expected (N, T, {FRAME_WIDTH}) = 2 actors x 25 joints x 3 coordinates, got {x.shape}",
                path=self.path,
                where=where,
            )
        if x.dtype.kind != "f":
            raise FormatError(f"expected a float array, got {x.dtype}", path=self.path, where=where)
        n = x.shape[0]
        if y.ndim == 2 and y.shape[0] == n:  # one-hot (the official form)
            width = y.shape[1]
        elif y.ndim == 1 and y.shape[0] == n and y.dtype.kind in "iu":  # integer labels (some forks)
            width = int(y.max()) + 1 if n else 0
            self.one_hot = False
        else:
            raise FormatError(
                f"expected one-hot ({n}, classes) or ({n},) integer labels, got {y.dtype} {y.shape}",
                path=self.path,
                where=f"y_{part}",
            )
        if self.num_classes is not None and y.ndim == 2 and width != self.num_classes:
            raise FormatError(
                f"{width} classes, but the other split has {self.num_classes}",
                path=self.path,
                where=f"y_{part}",
            )
        self.num_classes = max(self.num_classes or 0, width)
        self.x[part], self.labels[part] = x, y
        ids = npz_member(self.path, f"skelact_ids_{part}")
        self.ids[part] = (
            [f"{part}_{i:06d}" for i in range(n)]
            if ids is None
            else self._extra(ids, n, part, "ids").tolist()
        )
        for key, store in (("length", self.lengths), ("persons", self.persons)):
            extra = npz_member(self.path, f"skelact_{key}_{part}")
            store[part] = None if extra is None else self._extra(extra, n, part, key)

    def _extra(self, array: np.ndarray, n: int, part: str, key: str) -> np.ndarray:
        if array.shape != (n,):
            raise FormatError(
                f"expected {n} entries, got {array.shape}", path=self.path, where=f"skelact_{key}_{part}"
            )
        return np.asarray(array)

    def __len__(self) -> int:
        return sum(x.shape[0] for x in self.x.values())

    def items(self) -> list[tuple[str, int]]:
        """(part, row) for every row, train first."""
        return [(part, row) for part in PARTS if part in self.x for row in range(self.x[part].shape[0])]

    def label(self, part: str, row: int) -> int:
        y = self.labels[part][row]
        where = f"y_{part} row {row}"
        if y.ndim == 0:
            return int(y)
        hot = np.flatnonzero(y)
        if hot.size != 1 or y[hot[0]] != 1:
            raise FormatError(
                f"not one-hot: {hot.size} non-zero entries (expected a single 1)", path=self.path, where=where
            )
        return int(hot[0])

    def sample(self, part: str, row: int) -> SkeletonSample:
        """Row `row` of `part` as a sample (raises SkipItem for an all-zero row, FormatError for NaN)."""
        sample_id = self.ids[part][row]
        where = f"x_{part} row {row}"
        frames = np.asarray(self.x[part][row], dtype=np.float32)  # (T, 150), read from the map
        if not np.isfinite(frames).all():
            t = int(np.argwhere(~np.isfinite(frames))[0][0])
            raise FormatError(f"NaN or Inf in frame {t}", path=self.path, where=where)
        length_extra, persons_extra = self.lengths[part], self.persons[part]
        if length_extra is not None:
            length = int(length_extra[row])
            if not 1 <= length <= frames.shape[0]:
                raise FormatError(
                    f"skelact_length {length} outside 1..{frames.shape[0]}", path=self.path, where=where
                )
        else:
            nonzero = np.flatnonzero((frames != 0).any(axis=1))
            if nonzero.size == 0:
                raise SkipItem(f"{self.path} ({where}): every value is zero, no skeleton")
            length = int(nonzero[-1]) + 1
        actors = frames[:length].reshape(length, NUM_ACTORS, NUM_JOINTS, NUM_COORDS).transpose(1, 0, 2, 3)
        second = second_actor_kind(actors)
        persons = 2 if second == "present" else 1
        if persons_extra is not None:  # written by skelact: the person count is known exactly
            persons = int(persons_extra[row])
            if persons not in (1, 2):
                raise FormatError(f"skelact_persons {persons} is not 1 or 2", path=self.path, where=where)
            if persons == 1 and second == "present":
                raise FormatError(
                    "skelact_persons says 1 person but actor 2 holds other data", path=self.path, where=where
                )
            second = "present" if persons == 2 else second
        meta = {"source": str(self.path), "part": part, "row": row, "second_actor": second}
        sample = SkeletonSample(
            keypoint=np.ascontiguousarray(actors[:persons]),
            label=self.label(part, row),
            meta=meta,
            sample_id=sample_id,
        )
        return sample.validate(num_classes=self.num_classes, source=self.path)


def second_actor_kind(actors: np.ndarray) -> str:
    """``"zero"`` (NTU-60 padding), ``"copy"`` (NTU-120 padding: exactly actor 1) or ``"present"``."""
    if not actors[1].any():
        return "zero"
    if np.array_equal(actors[1], actors[0]):
        return "copy"
    return "present"


@register_format(
    "ctrgcn-npz", description="CTR-GCN .npz: x_train/x_test (N, 300, 150), one-hot y_train/y_test"
)
def read_ctrgcn_npz(path: str | PathLike[str]) -> list[SkeletonSample]:
    """All rows of one file as samples, train rows first (all in memory at once; the preparer streams)."""
    npz = CtrgcnNpz(path)
    return [npz.sample(part, row) for part, row in npz.items()]


# ----------------------------------------------------------------------------------------------- writing


def write_ctrgcn_npz(
    path: str | PathLike[str],
    parts: Mapping[str, Sequence[SkeletonSample]],
    *,
    num_classes: int,
    second_actor: SecondActor = "zero",
    max_frames: int | None = None,
    class_names: Sequence[str] | None = None,
    extras: bool = True,
) -> Path:
    """Write samples as CTR-GCN's npz, atomically; `parts` maps ``"train"`` / ``"test"`` to samples.

    Samples must be NTU-25 3D with at most 2 persons. Rows are zero-padded to 300 frames (or `max_frames`);
    a longer sample is an error naming it, unless `max_frames` makes room. A single person's second actor
    is zeros (``second_actor="zero"``, NTU-60 script) or a copy of the first (``"copy"``, NTU-120 script).
    Arrays are built in temporary ``.npy`` files and zipped uncompressed, so memory stays at one row.
    """
    path = Path(path)
    if second_actor not in ("zero", "copy"):
        raise ConfigError(f"second_actor must be 'zero' or 'copy', got {second_actor!r}")
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ConfigError(f"unknown part(s) {sorted(unknown)}; a CTR-GCN npz has 'train' and 'test'")
    frames = max_frames if max_frames is not None else PADDED_FRAMES
    if frames < 1:
        raise ConfigError(f"max_frames must be at least 1, got {frames}")
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        members: list[tuple[str, Path]] = []
        for part, samples in parts.items():
            members += _write_part(
                work, part, samples, num_classes, second_actor, frames, max_frames is not None, extras
            )
        if extras and class_names is not None:
            names_file = work / "skelact_class_names.npy"
            np.save(names_file, np.asarray(list(class_names), dtype=str))
            members.append(("skelact_class_names", names_file))
        with (
            atomic_write(path, "wb") as handle,
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive,
        ):
            for name, file in members:
                archive.write(file, arcname=f"{name}.npy")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def _write_part(
    work: Path,
    part: str,
    samples: Sequence[SkeletonSample],
    num_classes: int,
    second_actor: SecondActor,
    frames: int,
    frames_given: bool,
    extras: bool,
) -> list[tuple[str, Path]]:
    n = len(samples)
    x_file, y_file = work / f"x_{part}.npy", work / f"y_{part}.npy"
    x = np.lib.format.open_memmap(x_file, mode="w+", dtype=np.float32, shape=(n, frames, FRAME_WIDTH))
    y = np.zeros((n, num_classes), dtype=np.float64)
    lengths, persons, ids = np.zeros(n, np.int64), np.zeros(n, np.int64), []
    for i, sample in enumerate(samples):
        row, lengths[i], persons[i] = _row(sample, second_actor, frames, frames_given)
        x[i] = row
        if not 0 <= sample.label < num_classes:
            raise FormatError(
                f"label {sample.label} outside 0..{num_classes - 1}", where=f"sample {sample.sample_id!r}"
            )
        y[i, sample.label] = 1.0
        ids.append(sample.sample_id)
    x.flush()
    del x
    np.save(y_file, y)
    members = [(f"x_{part}", x_file), (f"y_{part}", y_file)]
    if extras:
        for key, values in (("ids", np.asarray(ids, dtype=str)), ("length", lengths), ("persons", persons)):
            file = work / f"skelact_{key}_{part}.npy"
            np.save(file, values)
            members.append((f"skelact_{key}_{part}", file))
    return members


def _row(
    sample: SkeletonSample, second_actor: SecondActor, frames: int, frames_given: bool
) -> tuple[np.ndarray, int, int]:
    where = f"sample {sample.sample_id!r}"
    kp = np.asarray(sample.keypoint, dtype=np.float32)
    m, t, v, c = kp.shape
    if (v, c) != (NUM_JOINTS, NUM_COORDS):
        raise FormatError(
            f"a CTR-GCN npz holds 25 joints x 3 coordinates, the sample has {v} x {c}", where=where
        )
    if m > NUM_ACTORS:
        raise FormatError(
            f"{m} persons; a CTR-GCN npz holds at most 2 actors",
            where=where,
            hint="keep the top 2 persons first",
        )
    if t > frames:
        raise FormatError(
            f"{t} frames do not fit the {frames}-frame rows",
            where=where,
            hint=None if frames_given else f"pass max_frames (--max-frames) >= {t} for longer rows",
        )
    row = np.zeros((frames, NUM_ACTORS, NUM_JOINTS, NUM_COORDS), np.float32)
    row[:t, :m] = kp.transpose(1, 0, 2, 3)
    if m == 1 and second_actor == "copy":
        row[:t, 1] = row[:t, 0]
    return row.reshape(frames, FRAME_WIDTH), t, m
