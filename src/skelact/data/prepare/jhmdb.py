"""`skelact prepare jhmdb`: DD-Net's J-HMDB pickles to one store with the three official splits (spec 2.9).

``--raw`` is the folder with ``GT_{train,test}_{1,2,3}.pkl``. Each split's train + test files hold the
same clips, so instead of storing every clip three times we store it once [design choice]: entries are
matched by exact identity (label, shape, float64 bytes; `group_jhmdb_poses`), each clip records in its meta
whether it is ``train`` or ``test`` in ``split1``, ``split2``, ``split3`` plus every file entry it came from,
and the splits ``split<k>_train`` / ``split<k>_test`` are read back from that meta. On the real files 1,827
entries give 609 clips (433/176, 433/176, 434/175). Sample ids name the clip's first entry, e.g.
``split1_train_0007`` = entry 7 of ``GT_train_1.pkl``.

Classes: the J-HMDB names present in the files, sorted (the 14 without an underscore). No subjects are
known, so validation is carved stratified by class. The store's provenance names the dataset
"J-HMDB-14 (DD-Net pickles)": results on it are not comparable with 21-class J-HMDB numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.jhmdb_ddnet import (
    DATASET_NAME,
    FILE_PATTERN,
    JHMDB21_CLASSES,
    JhmdbClip,
    entry_sample,
    group_jhmdb_poses,
    load_jhmdb_pickle,
)
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.options import NoOptions
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError, FormatError


def parse_jhmdb_clip(raw: Path, class_names: Sequence[str], clip: JhmdbClip) -> list[SkeletonSample]:
    """One clip (all its identical entries) as one sample with its per-split membership in the meta."""
    membership: dict[str, str] = {}
    for entry in clip.entries:
        key = f"split{entry.split}"
        if membership.get(key, entry.part) != entry.part:
            raise FormatError(
                f"the same pose is in both train and test of split {entry.split} "
                f"({', '.join(f'{e.file} entry {e.index}' for e in clip.entries)})",
                path=raw / entry.file,
                where=f"entry {entry.index}",
            )
        membership[key] = entry.part
    extra = {**membership, "occurrences": [f"{e.file}#{e.index}" for e in clip.entries]}
    first = clip.first
    return [entry_sample(first, class_names=tuple(class_names), source=raw / first.file, extra_meta=extra)]


def describe_jhmdb_clip(raw: Path, clip: JhmdbClip) -> str:
    return f"{raw / clip.first.file} entry {clip.first.index}"


class JhmdbSplits:
    """``split<k>_train`` / ``split<k>_test`` for every split k present, from the clips' meta."""

    def __init__(self, splits: Sequence[int]) -> None:
        self.splits = tuple(splits)

    def __call__(self, table: SampleTable) -> dict[str, np.ndarray]:
        result: dict[str, np.ndarray] = {}
        for k in self.splits:
            parts = np.asarray([m.get(f"split{k}", "") for m in table.meta], dtype=object)
            for part in ("train", "test"):
                result[f"split{k}_{part}"] = np.flatnonzero(parts == part)
        return result


def find_jhmdb_files(raw: Path) -> list[Path]:
    if not raw.is_dir():
        raise ConfigError(
            f"{raw} is not a folder", hint="`raw` takes the folder with GT_train_1.pkl ... GT_test_3.pkl"
        )
    files = [p for p in raw.iterdir() if FILE_PATTERN.match(p.name)]
    if not files:
        raise ConfigError(f"no GT_{{train,test}}_<k>.pkl files in {raw}")

    def order(path: Path) -> tuple[int, int]:
        match = FILE_PATTERN.match(path.name)
        assert match is not None
        return int(match.group(2)), 0 if match.group(1) == "train" else 1

    return sorted(files, key=order)


@register_preparer("jhmdb")
class JhmdbPreparer(JobRecipe[NoOptions]):
    name: str
    help = "J-HMDB 2D poses as DD-Net pickles (GT_{train,test}_{1,2,3}.pkl), 14 classes, splits 1-3"
    options_type = NoOptions  # nothing to choose: layout, classes and splits are fixed by the files

    def build(self, raw: Path, options: NoOptions) -> PrepareJob:
        raw = Path(raw)
        files = find_jhmdb_files(raw)
        entries = [entry for path in files for entry in load_jhmdb_pickle(path)]
        present = {e.label for e in entries if isinstance(e.label, str)}
        names = sorted(present & set(JHMDB21_CLASSES))
        if not names:
            raise FormatError(
                f"no J-HMDB class name among the labels ({sorted(map(str, present))[:5]} ...)", path=raw
            )
        clips = group_jhmdb_poses(entries)
        splits = sorted({e.split for e in entries})
        counts: dict[str, int] = {f.name: sum(e.file == f.name for e in entries) for f in files}
        provenance: dict[str, Any] = {
            "recipe": "jhmdb",
            "format": "jhmdb-ddnet",
            "dataset": DATASET_NAME,
            "raw": str(raw.resolve()),
            "files": counts,
            "entries": len(entries),
            "clips": len(clips),
            "deduplication": "entries with equal label, shape and float64 bytes are one clip, stored once",
            "note": "14 of the 21 J-HMDB classes; not comparable with 21-class J-HMDB results",
            "coordinates": "as DD-Net normalised them (not pixels)",
        }
        return PrepareJob(
            items=clips,
            parse=functools.partial(parse_jhmdb_clip, raw, tuple(names)),
            layout="jhmdb15",
            class_names=names,
            splits=JhmdbSplits(splits),
            val_groups=None,
            provenance=provenance,
            parallel=False,
            describe=functools.partial(describe_jhmdb_clip, raw),
        )
