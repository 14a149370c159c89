"""J-HMDB ground-truth 2D poses as preprocessed by DD-Net (spec 2.9): ``GT_{train,test}_{1,2,3}.pkl``.

Each pickle is ``{"pose": [float64 (T, 15, 2), ...], "label": [class name, ...]}``, coordinates already
normalised by DD-Net (about -2.8 .. 1.8; pixel normalisation does not apply), one person, no scores. Only
14 of J-HMDB's 21 classes are present (the seven with an underscore are missing), so results must be
reported as "J-HMDB-14 (DD-Net pickles)", never compared with 21-class numbers.

Every clip appears in all three splits (train in some, test in others). `group_jhmdb_poses` finds each
clip's copies by exact identity (same label, shape and float64 bytes) and `skelact prepare jhmdb` stores
each clip once, with its membership per split in the meta: on the real files the 1,827 entries collapse to
exactly 609 clips, each present once in every split [measured].
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.registry import register_format
from skelact.data.formats.safe_pickle import load_pickle
from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError

NUM_JOINTS = 15
DATASET_NAME = "J-HMDB-14 (DD-Net pickles)"
#: The 21 J-HMDB classes; DD-Net's pickles hold the 14 without an underscore (spec 2.9).
JHMDB21_CLASSES: tuple[str, ...] = (
    "brush_hair", "catch", "clap", "climb_stairs", "golf", "jump", "kick_ball", "pick", "pour", "pullup",
    "push", "run", "shoot_ball", "shoot_bow", "shoot_gun", "sit", "stand", "swing_baseball", "throw", "walk",
    "wave",
)  # fmt: skip
#: The 14 classes present in the DD-Net pickles, sorted: label i is CLASS_NAMES[i].
CLASS_NAMES: tuple[str, ...] = tuple(c for c in JHMDB21_CLASSES if "_" not in c)
FILE_PATTERN = re.compile(r"^GT_(train|test)_(\d+)\.pkl$")


@dataclass(frozen=True)
class JhmdbEntry:
    """One (pose, label) record of one pickle."""

    file: str  # file name, e.g. GT_train_1.pkl
    part: str  # train | test
    split: int  # 1..3
    index: int
    pose: Any  # as unpickled (checked when parsed)
    label: Any

    @property
    def name(self) -> str:
        return f"split{self.split}_{self.part}_{self.index:04d}"


@dataclass
class JhmdbClip:
    """One clip and every entry that holds it (first entry first)."""

    entries: list[JhmdbEntry] = field(default_factory=list)

    @property
    def first(self) -> JhmdbEntry:
        return self.entries[0]

    def __str__(self) -> str:
        return f"{self.first.file} entry {self.first.index}"


def split_of_file(path: str | PathLike[str]) -> tuple[str, int]:
    """(part, split) from ``GT_<part>_<split>.pkl``."""
    match = FILE_PATTERN.match(Path(path).name)
    if match is None:
        raise FormatError("file name does not follow GT_{train,test}_<split>.pkl", path=path)
    return match.group(1), int(match.group(2))


def load_jhmdb_pickle(path: str | PathLike[str]) -> list[JhmdbEntry]:
    """The entries of one pickle, checked for structure (poses are checked when turned into samples)."""
    path = Path(path)
    part, split = split_of_file(path)
    data = load_pickle(path, encoding="latin1")
    if not isinstance(data, dict) or not {"pose", "label"} <= set(data):
        raise FormatError("expected a dict with 'pose' and 'label' lists", path=path)
    poses, labels = data["pose"], data["label"]
    if not isinstance(poses, list) or not isinstance(labels, list):
        raise FormatError("'pose' and 'label' must be lists", path=path)
    if len(poses) != len(labels):
        raise FormatError(f"{len(poses)} poses but {len(labels)} labels", path=path)
    return [
        JhmdbEntry(path.name, part, split, i, p, lab)
        for i, (p, lab) in enumerate(zip(poses, labels, strict=True))
    ]


def entry_sample(
    entry: JhmdbEntry,
    *,
    class_names: tuple[str, ...] | list[str] = CLASS_NAMES,
    sample_id: str | None = None,
    source: str | PathLike[str] | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> SkeletonSample:
    """One entry as a one-person 2D sample (1, T, 15, 2); errors name the file and entry index."""
    where = f"entry {entry.index}"
    source = source if source is not None else entry.file
    pose, label = entry.pose, entry.label
    if not isinstance(label, str) or label not in class_names:
        known = ", ".join(class_names)
        raise FormatError(f"unknown class {label!r} (expected one of: {known})", path=source, where=where)
    if not isinstance(pose, np.ndarray) or pose.dtype.kind not in "fiu":
        got = pose.dtype if isinstance(pose, np.ndarray) else type(pose).__name__
        raise FormatError(f"pose must be a numeric array (T, 15, 2), got {got}", path=source, where=where)
    if pose.ndim != 3 or pose.shape[1:] != (NUM_JOINTS, 2) or pose.shape[0] == 0:
        raise FormatError(
            f"pose must be (T, {NUM_JOINTS}, 2) with T >= 1, got {pose.shape}", path=source, where=where
        )
    if not np.isfinite(pose).all():
        t, j, _ = (int(i) for i in np.argwhere(~np.isfinite(pose))[0])
        raise FormatError(f"NaN or Inf at frame {t}, joint {j}", path=source, where=where)
    meta: dict[str, Any] = {"source": str(source), "record": entry.index, **(extra_meta or {})}
    return SkeletonSample(
        keypoint=pose.astype(np.float32)[None],
        label=list(class_names).index(label),
        meta=meta,
        sample_id=sample_id or entry.name,
    ).validate(num_joints=NUM_JOINTS, num_channels=2, num_classes=len(class_names), source=source)


def group_jhmdb_poses(entries: Iterable[JhmdbEntry]) -> list[JhmdbClip]:
    """Group entries that hold the same clip: equal label, dtype, shape and bytes (exact identity).

    The k-th copy of a pose within one file pairs with the k-th copy in another file, so a clip listed
    twice in a split stays two clips. Entries that are not arrays cannot be compared and stay alone (they
    fail when parsed). Clips come out in order of first appearance.
    """
    clips: list[JhmdbClip] = []
    by_key: dict[tuple[Any, ...], list[JhmdbClip]] = {}
    for entry in entries:
        pose = entry.pose
        if not isinstance(pose, np.ndarray) or not isinstance(entry.label, str):
            clips.append(JhmdbClip([entry]))
            continue
        digest = hashlib.sha1(np.ascontiguousarray(pose).tobytes(), usedforsecurity=False).hexdigest()
        key = (entry.label, pose.dtype.str, pose.shape, digest)
        candidates = by_key.setdefault(key, [])
        home = next(
            (
                c
                for c in candidates
                if all(e.file != entry.file for e in c.entries) and np.array_equal(c.first.pose, pose)
            ),
            None,
        )
        if home is None:
            home = JhmdbClip()
            candidates.append(home)
            clips.append(home)
        home.entries.append(entry)
    return clips


@register_format("jhmdb-ddnet", description="J-HMDB 2D poses as DD-Net pickles GT_{train,test}_{1,2,3}.pkl")
def read_jhmdb_pickle(path: str | PathLike[str]) -> list[SkeletonSample]:
    """Every entry of one pickle as a sample, named ``split<k>_<part>_<index>`` (e.g. split1_train_0007)."""
    path = Path(path)
    return [
        entry_sample(e, source=path, extra_meta={"split": e.split, "part": e.part})
        for e in load_jhmdb_pickle(path)
    ]
