"""`skelact prepare shrec17`: the SHREC'17 hand gesture folder to a store with its official train/test lists.

``--raw`` is the ``HandGestureDataset_SHREC2017`` folder (with ``train_gestures.txt``, ``test_gestures.txt``
and the ``gesture_*`` tree). Each list line is one sample; ``train`` and ``test`` are the two lists (1,960 and
840 sequences in the release); a list without any line is an error naming it. ``--labels 14`` (default)
takes the lists' ``label_14``, ``--labels 28`` their ``label_28`` (gesture x finger count). One person, 3D
world coordinates (metres) stored as given, layout ``shrec22``. The runner carves ``val`` out of ``train``
by subject and keeps the official list as ``train_full``.

No normalisation is done here: PSUMNet's SHREC pipeline (DSTA-Net preprocessing: origin at the wrist,
scaled by the wrist -> middle-base bone) has no matching ``normalize`` option; ``normalize: center`` in
configs/data/shrec17_*.yaml puts the origin at the wrist of the first frame and does not scale.

Class names are ``gesture_<g>`` (14) or ``gesture_<g>_finger_<f>`` (28), taken from the ids the lists pair
with each label [design choice: the release's gesture names are not in our specs]; the lists must pair each
label with one gesture (and finger count), or the run stops naming the conflicting line.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.shrec17 import (
    LIST_COLUMNS,
    LIST_FILES,
    NUM_CLASSES,
    SKELETON_FILE,
    Shrec17Entry,
    read_shrec17_file,
    read_shrec17_list,
)
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError, FormatError
from skelact.options import Options, option

RAW_HINT = (
    "`raw` takes the HandGestureDataset_SHREC2017 folder (train_gestures.txt, test_gestures.txt, gesture_*)"
)


def parse_shrec17_item(raw: Path, num_classes: int, item: tuple[str, Shrec17Entry]) -> list[SkeletonSample]:
    """Worker entry point: one list line, one sample."""
    split, entry = item
    path = raw / entry.folder / SKELETON_FILE
    if not path.is_file():
        raise FormatError(f"missing {SKELETON_FILE}, named by {entry.list_file} line {entry.line}", path=path)
    return [read_shrec17_file(path, entry=entry, num_classes=num_classes, extra_meta={"split": split})]


def describe_shrec17_item(raw: Path, item: tuple[str, Shrec17Entry]) -> str:
    return str(raw / item[1].folder / SKELETON_FILE)


def read_split_lists(raw: Path) -> list[tuple[str, Shrec17Entry]]:
    """(split, entry) for every line of both lists, train first; a sequence may be listed only once."""
    if not raw.is_dir():
        raise ConfigError(f"{raw} is not a folder", hint=RAW_HINT)
    items: list[tuple[str, Shrec17Entry]] = []
    seen: dict[str, Shrec17Entry] = {}
    for split, name in LIST_FILES.items():
        path = raw / name
        if not path.is_file():
            raise ConfigError(f"missing {path}", hint=RAW_HINT)
        entries = read_shrec17_list(path)
        if not entries:  # an empty official split would silently train or test on nothing
            raise FormatError(
                f"names no sequence (expected one line per sequence: {' '.join(LIST_COLUMNS)})", path=path
            )
        for entry in entries:
            if entry.name in seen:
                first = seen[entry.name]
                raise FormatError(
                    f"sequence {entry.folder} is listed twice (first at {first.list_file} line {first.line})",
                    path=entry.list_file,
                    where=f"line {entry.line}",
                )
            seen[entry.name] = entry
            items.append((split, entry))
    return items


def class_names_of(entries: Sequence[Shrec17Entry], num_classes: int) -> list[str]:
    """One name per label, from the ids the lists pair with it; a label paired with two stops the run."""
    owner: dict[int, Shrec17Entry] = {}
    for entry in entries:
        label = entry.label(num_classes)
        first = owner.setdefault(label, entry)
        key, first_key = _label_key(entry, num_classes), _label_key(first, num_classes)
        if key != first_key:
            raise FormatError(
                f"label_{num_classes} {label} is given to {_ids(key)} here but to {_ids(first_key)} at "
                f"{first.list_file} line {first.line}",
                path=entry.list_file,
                where=f"line {entry.line}",
            )
    names = []
    for label in range(1, num_classes + 1):
        entry = owner.get(label)
        if entry is None:
            names.append(f"label_{label:02d}")  # not in the lists (only in partial copies)
        elif num_classes == 14:
            names.append(f"gesture_{entry.gesture:02d}")
        else:
            names.append(f"gesture_{entry.gesture:02d}_finger_{entry.finger}")
    return names


def _label_key(entry: Shrec17Entry, num_classes: int) -> tuple[int, ...]:
    """What a label stands for: the gesture (14 classes), or the gesture and finger count (28)."""
    return (entry.gesture,) if num_classes == 14 else (entry.gesture, entry.finger)


def _ids(key: tuple[int, ...]) -> str:
    return ", ".join(f"{what} {value}" for what, value in zip(("gesture", "finger"), key, strict=False))


def shrec17_splits(table: SampleTable) -> dict[str, np.ndarray]:
    """``train`` / ``test`` from the list each sample came from."""
    parts = np.asarray([m.get("split", "") for m in table.meta], dtype=object)
    return {split: np.flatnonzero(parts == split) for split in LIST_FILES}


@dataclass(frozen=True, kw_only=True)
class Shrec17Options(Options):
    """`skelact prepare shrec17` options: which of the lists' two labelings becomes the class."""

    labels: int = option(
        "14 gestures (label_14, default) or 28 = gesture x finger count (label_28)", 14, choices=NUM_CLASSES
    )


@register_preparer("shrec17")
class Shrec17Preparer(JobRecipe[Shrec17Options]):
    name: str
    help = "SHREC'17 hand gestures (HandGestureDataset_SHREC2017): train/test lists, 14 or 28 classes"
    options_type = Shrec17Options

    def build(self, raw: Path, options: Shrec17Options) -> PrepareJob:
        raw = Path(raw)
        num_classes = options.labels
        items = read_split_lists(raw)
        names = class_names_of([entry for _, entry in items], num_classes)
        provenance: dict[str, Any] = {
            "recipe": "shrec17",
            "format": "shrec17",
            "dataset": f"SHREC'17 hand gestures, {num_classes} classes",
            "raw": str(raw.resolve()),
            "labels": num_classes,
            "lists": {split: sum(s == split for s, _ in items) for split in LIST_FILES},
            "coordinates": "skeletons_world.txt as given (world, metres); no offline normalisation",
        }
        return PrepareJob(
            items=items,
            parse=functools.partial(parse_shrec17_item, raw, num_classes),
            layout="shrec22",
            class_names=names,
            splits=shrec17_splits,
            val_groups="subject",
            provenance=provenance,
            describe=functools.partial(describe_shrec17_item, raw),
        )
