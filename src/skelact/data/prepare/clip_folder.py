"""What the two "bring your own data" recipes share: a folder of clip files, a labels CSV, a layout, splits.

Split rule (docs/custom-data.md):
- The CSV has a ``split`` column: each distinct value (lower-cased) becomes a store split of that name. The
  runner then carves ``val`` out of ``train`` (by subject when the CSV has a subject column, else stratified
  by class) and keeps the full training set as ``train_full``, unless ``--val-fraction 0`` or the CSV names
  its own ``val`` split, which is then kept as it is. A CSV naming a ``train_full`` split is refused while
  carving is on, since the carve would replace it.
- No ``split`` column: ``--test-fraction`` (default 0.2) of the clips become ``test``, the rest ``train``;
  whole subjects are drawn (seeded by ``--seed``) until they hold at least that fraction when the CSV has a
  subject column with two or more subjects, otherwise each class gives round(fraction x its count) clips.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.clip_labels import ClipLabels, ClipRow, read_class_names, read_clip_labels
from skelact.data.formats.registry import get_format
from skelact.data.prepare.job import SampleTable
from skelact.data.prepare.options import CarveOptions
from skelact.data.splits import carve_validation
from skelact.errors import ConfigError
from skelact.options import option
from skelact.skeleton.layout import Layout, list_layouts
from skelact.skeleton.layout_file import load_layout

DEFAULT_TEST_FRACTION = 0.2
MAX_LISTED_UNLISTED = 100


def labels_option(what: str) -> Any:
    """The ``labels`` field, naming the kind of clip file the CSV lists."""
    return option(
        f"CSV with columns file,label[,split,subject,view,...]; file = {what} path relative to --raw "
        "(default: RAW/labels.csv)",
        None,
    )


@dataclass(frozen=True, kw_only=True)
class ClipFolderOptions(CarveOptions):
    """What both recipes take. The validation carve's options are inherited because the split rule reads
    them too: `seed` also draws the test split, and `val_fraction` decides whether a CSV may name its own
    ``train_full`` (pass the runner's values; on the command line one flag sets both)."""

    labels: Path | None = labels_option("clip")
    layout: str = option(
        f"joint layout: a built-in name ({', '.join(list_layouts())}) or a .yaml/.json layout file"
    )
    class_names: Path | None = option(
        "file with one class name per line, in class-index order (default: sorted label names)", None
    )
    test_fraction: float | None = option(
        "without a split column: fraction of clips held out as 'test', by subject if the CSV has a "
        f"subject column, else stratified by class (default {DEFAULT_TEST_FRACTION})",
        None,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.test_fraction is not None and not 0.0 <= self.test_fraction < 1.0:
            raise ConfigError(f"`test_fraction` must be in [0, 1), got {self.test_fraction}")


@dataclass(frozen=True)
class ClipFolderPlan:
    """Everything a recipe needs besides its own parse function."""

    labels: ClipLabels
    layout: Layout
    splits: Callable[[SampleTable], dict[str, np.ndarray]]  # a partial of a module function
    val_groups: str | None
    provenance: dict[str, Any]

    @property
    def items(self) -> list[ClipRow]:
        return self.labels.rows

    @property
    def labels_name(self) -> str:
        return self.labels.source.name


def plan_clip_folder(raw: Path, options: ClipFolderOptions, *, recipe: str) -> ClipFolderPlan:
    """Read the labels CSV, the class names and the layout; decide the split rule. Raises on bad input.

    `recipe` is also the name of the clip format, whose registered suffixes find the clip files that the
    CSV does not list."""
    raw = Path(raw)
    if not raw.is_dir():
        raise ConfigError(
            f"`raw` {raw} is not a folder", hint=f"`raw` takes the folder holding the {recipe} files"
        )
    csv_path = options.labels or raw / "labels.csv"
    layout = load_layout(options.layout)
    layout_is_file = Path(options.layout).is_file()
    class_file = options.class_names
    class_names = read_class_names(class_file) if class_file else None
    labels = read_clip_labels(csv_path, raw, class_names=class_names)
    seed, val_fraction, test_fraction = options.seed, options.val_fraction, options.test_fraction
    by_subject = labels.has_subject and len({row.meta["subject"] for row in labels.rows}) >= 2
    if labels.has_split:
        if test_fraction is not None:
            raise ConfigError(
                f"{csv_path} has a split column, so `test_fraction` does not apply",
                hint="drop `test_fraction`, or remove the split column to split by fraction",
            )
        names = labels.split_names()
        _refuse_train_full_with_carving(csv_path, names, val_fraction)
        splits: Callable[[SampleTable], dict[str, np.ndarray]]
        splits = functools.partial(splits_from_column, names=tuple(names))
        rule = f"split column of {csv_path.name}: {', '.join(names)}"
    else:
        fraction = DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction
        group = "subject" if by_subject else None
        splits = functools.partial(splits_by_fraction, fraction=fraction, seed=seed, group_key=group)
        rule = (
            f"test: {fraction:g} of the clips, by {'subject' if group else 'class (stratified)'}, seed {seed}"
            if fraction > 0
            else "train only (--test-fraction 0)"  # provenance text, kept as stores have it
        )
    unlisted = _unlisted_files(raw, labels, get_format(recipe).suffixes, exclude=(csv_path, class_file))
    provenance = {
        "recipe": recipe,
        "format": recipe,
        "raw": str(raw.resolve()),
        "labels": str(csv_path.resolve()),
        "class_names_file": None if class_file is None else str(Path(class_file).resolve()),
        "label_mode": labels.label_mode,
        "layout": layout.name,
        "layout_source": str(Path(options.layout).resolve()) if layout_is_file else str(options.layout),
        "split_rule": rule,
        "unlisted_count": len(unlisted),
        "unlisted": unlisted[:MAX_LISTED_UNLISTED],
    }
    if "video" in labels.columns:  # the rgb modality reads meta["video"] relative to this folder
        provenance["video_root"] = str(raw.resolve())
    return ClipFolderPlan(
        labels=labels,
        layout=layout,
        splits=splits,
        val_groups="subject" if by_subject else None,
        provenance=provenance,
    )


def describe_row(row: ClipRow) -> str:
    """How the run summary names a clip (the error after it says which CSV line lists it)."""
    return row.file


def splits_from_column(table: SampleTable, *, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """One split per value of the CSV's split column (kept in each sample's meta)."""
    values = np.asarray([m["split"] for m in table.meta], dtype=object)
    return {name: np.flatnonzero(values == name) for name in names}


def splits_by_fraction(
    table: SampleTable, *, fraction: float, seed: int, group_key: str | None
) -> dict[str, np.ndarray]:
    """``train`` / ``test`` with `fraction` of the clips in test, by subject when possible."""
    everything = np.arange(len(table.ids), dtype=np.int64)
    if fraction == 0.0:
        return {"train": everything}
    groups = table.column(group_key) if group_key else None
    if groups is not None and np.unique(groups).size < 2:
        groups = None
    try:
        train, test = carve_validation(
            everything, labels=table.labels, groups=groups, fraction=fraction, seed=seed
        )
    except ConfigError:
        raise ConfigError(
            f"too few clips ({everything.size}) to hold out a {fraction:.0%} test split",
            hint="raise `test_fraction`, or give a split column in the labels CSV",
        ) from None
    return {"train": train, "test": test}


# ----------------------------------------------------------------------------------------------- helpers


def _refuse_train_full_with_carving(csv_path: Path, names: list[str], val_fraction: float) -> None:
    if val_fraction <= 0:
        return
    for name in names:
        if name == "train" or name.endswith("_train"):
            own_val, own_full = name[: -len("train")] + "val", name + "_full"
            if own_full in names and own_val not in names:
                raise ConfigError(
                    f"{csv_path} defines split {own_full!r}, and carving a validation split from {name!r} "
                    "would replace it",
                    hint="pass `val_fraction` 0, or give the CSV its own validation split",
                )


def _unlisted_files(
    raw: Path, labels: ClipLabels, suffixes: Sequence[str], exclude: Sequence[Path | None]
) -> list[str]:
    """Clip files in the folder that the CSV does not list: recorded, so nothing is left out unnoticed."""
    known = {row.path.resolve() for row in labels.rows} | {
        Path(p).resolve() for p in exclude if p is not None
    }
    found = {p for s in suffixes for p in raw.rglob(f"*{s}")}
    return sorted(str(p.relative_to(raw)) for p in found if p.is_file() and p.resolve() not in known)
