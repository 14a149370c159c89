"""`skelact prepare agcn`: a 2s-AGCN / MS-G3D data folder (spec 2.5) to a store.

``--raw`` is the folder holding ``train_data_joint.npy``, ``train_label.pkl``, ``val_data_joint.npy`` and
``val_label.pkl`` (e.g. ``data/ntu/xsub``). The arrays are memory-mapped and read row by row in the main
process (``parallel=False``); each row is an item, so ``--skip-bad`` lists a bad row by name. Splits:
``<protocol>_train`` and ``<protocol>_test`` (these codebases' ``val`` is the official test set), the
protocol from ``--protocol`` or the folder name (xsub, xview, xset; csub/cset accepted), else ``train`` /
``test``. NTU names give subject/view/setup meta, so validation is carved by subject.

Coordinates are stored as the files hold them: already centred per frame and rotated by 2s-AGCN's
``pre_normalization`` (spec 4.4), and loop-padded to 300 frames for NTU (see `skelact.data.formats.agcn_npy`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.agcn_npy import agcn_sample, load_agcn_labels, open_agcn_data, sample_name
from skelact.data.formats.ntu_skeleton import ntu_meta_from_name
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.prepare.source_options import (
    LAYOUTS_2D,
    ClassCountOptions,
    LabelPlace,
    LayoutOptions,
    check_inferred_classes,
    class_names,
    layout_for_joints,
    layout_option,
)
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError, FormatError
from skelact.options import option

PARTS = (("train", "train"), ("val", "test"))  # (file prefix, store part)
_PROTOCOL_ALIASES = {
    "xsub": "xsub",
    "csub": "xsub",
    "cs": "xsub",
    "xview": "xview",
    "cv": "xview",
    "xset": "xset",
    "cset": "xset",
}


class AgcnContext:
    """The open arrays and label lists of every part present."""

    def __init__(
        self,
        parts: dict[str, tuple[Path, np.ndarray, list[str], list[int], list[str]]],
        score: bool,
        num_classes: int,
    ) -> None:
        self.parts, self.score, self.num_classes = parts, score, num_classes


def parse_agcn_item(context: AgcnContext, item: tuple[str, int]) -> list[SkeletonSample]:
    part, row = item
    path, data, names, labels, ids = context.parts[part]
    sample = agcn_sample(
        data,
        row,
        name=names[row],
        label=labels[row],
        sample_id=ids[row],
        score_channel=context.score,
        num_classes=context.num_classes,
        source=path,
        extra_meta={"part": part},
    )
    return [sample]


def describe_agcn_item(context: AgcnContext, item: tuple[str, int]) -> str:
    path, _, names, _, _ = context.parts[item[0]]
    return f"{path} row {item[1]} ({names[item[1]]})"


class AgcnSplits:
    def __init__(self, protocol: str | None) -> None:
        self.prefix = f"{protocol}_" if protocol else ""

    def __call__(self, table: SampleTable) -> dict[str, np.ndarray]:
        parts = np.asarray([m["part"] for m in table.meta], dtype=object)
        return {f"{self.prefix}{p}": np.flatnonzero(parts == p) for _, p in PARTS}


@dataclass(frozen=True, kw_only=True)
class AgcnOptions(ClassCountOptions, LayoutOptions):
    """`skelact prepare agcn` options."""

    layout: str | None = layout_option("default: from the joint count, 25 ntu25, 18 openpose18")
    protocol: str | None = option(
        "split prefix, e.g. xsub, xview, xset (default: from the folder name)", None
    )


@register_preparer("agcn")
class AgcnPreparer(JobRecipe[AgcnOptions]):
    name: str
    help = "2s-AGCN / MS-G3D folder: {train,val}_data_joint.npy (N, 3, 300, V, 2) + {train,val}_label.pkl"
    options_type = AgcnOptions

    def build(self, raw: Path, options: AgcnOptions) -> PrepareJob:
        raw = Path(raw)
        if not raw.is_dir():
            raise ConfigError(
                f"{raw} is not a folder", hint="`raw` takes the folder with train_data_joint.npy etc."
            )
        opened: dict[str, tuple[Path, np.ndarray, list[str], list[int]]] = {}
        for prefix, part in PARTS:
            data_path, label_path = raw / f"{prefix}_data_joint.npy", raw / f"{prefix}_label.pkl"
            if not data_path.exists() and not label_path.exists():
                continue
            if not data_path.exists() or not label_path.exists():
                missing = data_path if not data_path.exists() else label_path
                raise ConfigError(f"{missing} is missing (each part needs the .npy and the label .pkl)")
            names, labels = load_agcn_labels(label_path)
            data = open_agcn_data(data_path)
            if data.shape[0] != len(names):
                raise FormatError(
                    f"{data.shape[0]} rows but {len(names)} labels in {label_path}", path=data_path
                )
            opened[part] = (data_path, data, names, labels)
        if not opened:
            raise ConfigError(f"no train_data_joint.npy or val_data_joint.npy in {raw}")
        shapes = {part: entry[1].shape[1:] for part, entry in opened.items()}
        if len({(s[0], s[2]) for s in shapes.values()}) != 1:
            raise FormatError(f"train and val arrays disagree in channels or joints: {shapes}", path=raw)
        channels, num_joints = next(iter(shapes.values()))[0], next(iter(shapes.values()))[2]
        layout = layout_for_joints(num_joints, options.layout)
        score = layout in LAYOUTS_2D and channels == 3
        largest = max((max(entry[3], default=0) for entry in opened.values()), default=0)
        ntu = layout == "ntu25" and _ntu_labels(opened)
        if options.class_names is None and options.num_classes is None and not ntu:
            check_inferred_classes(
                [label for entry in opened.values() for label in entry[3]], _label_place(opened)
            )
        names = class_names(
            options.class_names, num_classes=options.num_classes, min_classes=largest + 1, ntu=ntu
        )
        parts = {part: (*entry, _unique_ids(part, entry[2], opened)) for part, entry in opened.items()}
        context = AgcnContext(parts, score, len(names))  # type: ignore[arg-type]
        alias = (options.protocol or raw.name).lower()
        protocol = _PROTOCOL_ALIASES.get(alias, options.protocol)
        provenance: dict[str, Any] = {
            "recipe": "agcn",
            "format": "agcn-npy",
            "raw": str(raw.resolve()),
            "layout": layout,
            "protocol": protocol,
            "parts": {
                part: {"file": str(entry[0].name), "rows": len(entry[2])} for part, entry in opened.items()
            },
            "score_channel": score,
            "preprocessing": "as in the files (2s-AGCN: per-frame centring, rotation, loop padding)",
            "valid_length": "last frame with any non-zero person + 1; loop-padded samples stay 300 frames",
        }
        items = [(part, row) for part in parts for row in range(len(parts[part][2]))]
        return PrepareJob(
            items=items,
            parse=functools.partial(parse_agcn_item, context),
            layout=layout,
            class_names=names,
            splits=AgcnSplits(protocol),
            val_groups="subject",
            provenance=provenance,
            parallel=False,
            describe=functools.partial(describe_agcn_item, context),
        )


def _label_place(opened: dict[str, Any]) -> LabelPlace:
    """Label number i of all parts (in `opened` order) -> (its label file, entry and name)."""

    def place(i: int) -> tuple[Path, str]:
        for data_path, _, names, labels in opened.values():
            if i < len(labels):
                label_path = data_path.with_name(data_path.name.replace("_data_joint.npy", "_label.pkl"))
                return label_path, f"entry {i} ({names[i]})"
            i -= len(labels)
        raise IndexError(i)

    return place


def _ntu_labels(opened: dict[str, Any]) -> bool:
    """Every name is an NTU sample whose label is its action id - 1."""
    return all(
        ntu_meta_from_name(name).get("action") == label + 1
        for entry in opened.values()
        for name, label in zip(entry[2], entry[3], strict=True)
    )


def _unique_ids(part: str, names: list[str], opened: dict[str, Any]) -> list[str]:
    """Sample ids from the names; prefixed by the part when a name repeats anywhere (ids must be unique)."""
    all_names = [sample_name(n) for entry in opened.values() for n in entry[2]]
    ids = [sample_name(n) for n in names]
    if len(set(all_names)) != len(all_names):
        return [f"{part}_{i}" for i in ids]
    return ids
