"""`skelact prepare kinetics`: ST-GCN Kinetics-skeleton clip folders to a store (spec 2.6).

``--raw`` is either the release folder (holding ``kinetics_train/`` and/or ``kinetics_val/`` with
``kinetics_{train,val}_label.json`` beside them) or one folder of clip files, whose split is named by
``--split-name``. Kinetics' validation set is the benchmark's test set, so it is stored as ``test``; the
runner carves ``val`` out of ``train`` stratified by class (Kinetics has no subject ids).

Labels: with label index files (found in the release folder, or given with ``--labels``) the label is the
index's number for the clip's class *name*, and class names come from the index; clips listed with
``has_skeleton: false`` are skipped. Without an index the clip's own ``label_index`` is used and class names
are collected from the clips in an extra pass. Name-based mapping matters: five of the sample clips carry
a rewritten ``label_index`` but their original class name (shared/data README).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from skelact.data.formats.kinetics_json import (
    CoordMode,
    FrameBase,
    KineticsOptions,
    LabelEntry,
    class_names_from_index,
    clip_to_sample,
    label_for_clip,
    read_kinetics_clip,
    read_kinetics_label_index,
)
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import ConfigError, FormatError
from skelact.options import Options, option

#: Release sub-folder -> stored split name (Kinetics "val" is the benchmark's test set).
RELEASE_FOLDERS = {"kinetics_train": "train", "kinetics_val": "test"}
SPLIT_ALIASES = {"train": "train", "test": "test", "val": "test"}


@dataclass(frozen=True)
class KineticsItem:
    """One clip to parse: its file, stored split, and what the label index says about it (if listed)."""

    path: str
    split: str
    indexed_label: str | None = None
    has_skeleton: bool | None = None


def parse_kinetics_item(
    item: KineticsItem, options: KineticsOptions, class_to_index: Mapping[str, int] | None
) -> list[SkeletonSample]:
    """Worker entry point: one clip file, one sample, or `SkipItem` when the clip has no skeleton."""
    if item.has_skeleton is False:
        raise SkipItem("no skeleton (has_skeleton is false in the label index)")
    clip = read_kinetics_clip(item.path, options)
    if item.indexed_label is not None and item.indexed_label != clip.label_name:
        raise FormatError(
            f"the clip's label {clip.label_name!r} disagrees with the label index ({item.indexed_label!r})",
            path=item.path,
            where="key 'label'",
        )
    if clip.keypoint.shape[0] == 0:
        raise SkipItem("no person detected in any frame")
    label = label_for_clip(clip, class_to_index, item.path)
    return [clip_to_sample(clip, label, item.path, split=item.split)]


def describe_item(item: KineticsItem) -> str:
    return item.path


class SplitByMeta:
    """Picklable split function: one split per value of ``meta["split"]``."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)

    def __call__(self, table: SampleTable) -> dict[str, np.ndarray]:
        column = table.column("split") if table.meta else np.zeros(0, dtype=str)
        return {name: np.flatnonzero(column == name) for name in self.names}


def find_clip_folders(raw: Path, split_name: str) -> list[tuple[Path, str]]:
    """(folder, stored split) pairs: the release sub-folders if present, else `raw` itself."""
    if not raw.is_dir():
        raise ConfigError(f"{raw} is not a folder", hint="`raw` takes a folder of clip .json files")
    release = [(raw / sub, split) for sub, split in RELEASE_FOLDERS.items() if (raw / sub).is_dir()]
    return release or [(raw, SPLIT_ALIASES[split_name])]


def default_label_files(raw: Path) -> list[Path]:
    """The release's index files next to its clip folders."""
    names = ("kinetics_train_label.json", "kinetics_val_label.json")
    return [raw / name for name in names if (raw / name).is_file()]


def _clip_files(folder: Path) -> list[Path]:
    # Index files may sit among the clips when a user flattens the release; they are not clips.
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith("_label.json"))


def _merge_indexes(files: Sequence[Path]) -> dict[str, LabelEntry]:
    merged: dict[str, LabelEntry] = {}
    for file in files:
        for clip_id, entry in read_kinetics_label_index(file).items():
            if merged.setdefault(clip_id, entry) != entry:
                raise FormatError(f"clip {clip_id!r} is listed differently in two label files", path=file)
    return merged


def _class_names_from_clips(files: Sequence[Path]) -> tuple[list[str], int]:
    """Names by each clip's own label_index (an extra pass); unnamed indices become ``class <i>``."""
    names: dict[int, str] = {}
    for file in files:
        try:
            with file.open("rb") as handle:
                record = json.load(handle)
            number, name = int(record["label_index"]), str(record["label"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # the parse pass reports the broken file with its record
        if names.setdefault(number, name) != name:
            raise FormatError(f"label_index {number} names both {names[number]!r} and {name!r}", path=file)
    count = max(names, default=-1) + 1
    return [names.get(i, f"class {i}") for i in range(count)], len(names)


@dataclass(frozen=True, kw_only=True)
class KineticsPrepareOptions(Options):
    """`skelact prepare kinetics` options: where labels come from, and how clips are packed
    (`KineticsOptions`, checked here already so that a bad value stops the run before any clip is read)."""

    labels: tuple[Path, ...] | None = option(
        "label index file(s) {clip_id: {has_skeleton, label, label_index}} (default: the release's "
        "kinetics_{train,val}_label.json in --raw; without any, each clip's own label_index is used)",
        None,
    )
    split_name: str = option(
        "split of a single clip folder: train, or test (Kinetics 'val' is the test set; 'val' means "
        "test); ignored when --raw holds kinetics_train/ and kinetics_val/",
        "test",
        choices=sorted(SPLIT_ALIASES),
    )
    max_frames: int = option("frames kept per clip (default 300)", 300)
    buffer_persons: int = option("persons read per frame, in listed order (default 5)", 5)
    max_persons: int = option("persons kept per frame, by summed score (default 2)", 2)
    coords: CoordMode = option(
        "unit: [0,1] -> [-1,1] (skelact); stgcn: x - 0.5 (ST-GCN, MS-G3D); raw: as stored", "unit"
    )
    flip_y: bool = option("negate y after centring (MS-G3D)", False)
    frame_base: FrameBase = option(
        "frame_index of a clip's first frame; auto: 0 if any record has index 0, else 1", "auto"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.reader_options()

    def reader_options(self) -> KineticsOptions:
        """How the reader packs each clip."""
        return KineticsOptions(
            max_frames=self.max_frames,
            buffer_persons=self.buffer_persons,
            max_persons=self.max_persons,
            coords=self.coords,
            flip_y=self.flip_y,
            frame_base=self.frame_base,
        )


@register_preparer("kinetics")
class KineticsPreparer(JobRecipe[KineticsPrepareOptions]):
    name: str
    help = "ST-GCN Kinetics-skeleton JSON clips (OpenPose 18 joints, 2D); top-2 persons per frame"
    options_type = KineticsPrepareOptions

    def build(self, raw: Path, options: KineticsPrepareOptions) -> PrepareJob:
        raw = Path(raw)
        kin = options.reader_options()
        folders = find_clip_folders(raw, options.split_name)
        label_files = list(options.labels or default_label_files(raw))
        for file in label_files:
            if not file.is_file():
                raise ConfigError(f"label index {file} does not exist")
        index = _merge_indexes(label_files)
        items: list[KineticsItem] = []
        for folder, split in folders:
            for file in _clip_files(folder):
                entry = index.get(file.stem)
                items.append(
                    KineticsItem(
                        str(file),
                        split,
                        None if entry is None else entry.label,
                        None if entry is None else entry.has_skeleton,
                    )
                )
        if index:
            class_names = class_names_from_index(index, path=", ".join(map(str, label_files)))
            class_to_index: dict[str, int] | None = {name: i for i, name in enumerate(class_names)}
            names_source = "label index"
        else:
            class_names, named = _class_names_from_clips([Path(item.path) for item in items])
            class_to_index = None
            names_source = f"clips ({named} of {len(class_names)} indices named)"
        if not class_names:
            raise ConfigError(f"no clip .json files under {raw}", hint="`raw` takes a folder of clip files")
        splits = sorted({split for _, split in folders})
        return PrepareJob(
            items=items,
            parse=functools.partial(parse_kinetics_item, options=kin, class_to_index=class_to_index),
            layout="openpose18",
            class_names=class_names,
            splits=SplitByMeta(splits),
            val_groups=None,
            describe=describe_item,
            provenance={
                "recipe": "kinetics",
                "format": "kinetics-json",
                "raw": str(raw.resolve()),
                "folders": {str(folder): split for folder, split in folders},
                "label_files": [str(f) for f in label_files],
                "labels_by": "class name via the label index" if index else "each clip's label_index",
                "class_names_from": names_source,
                **asdict(kin),
            },
        )
