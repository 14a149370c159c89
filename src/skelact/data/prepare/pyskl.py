"""`skelact prepare pyskl`: a PYSKL / MMAction2 annotation pickle to a store (spec 2.3).

The pickle is one file, so it is loaded once in the main process (``parallel=False``) and the work items
are the annotation indices: a bad annotation is a bad item, listed by ``--skip-bad`` with its index and
``frame_dir``. Splits come from the file's ``split`` dict with PYSKL's names mapped to the store's (its
``*_val`` test sets become ``*_test``; see `skelact.data.formats.pyskl_pickle`). A plain list of annotations
has no splits.

Layout: from ``--layout`` or the joint count (25 ntu25, 17 coco17, 18 openpose18, ...). Classes: from
``--class-names``, else numbered ``A001``... for NTU files (label i is action i+1) or ``class_000``...; their
number is ``--num-classes`` or the largest label + 1, which then must leave no class without a sample (one
stray label would otherwise invent hundreds of empty classes). A sample listed in both the training and the
test split of one protocol (``xsub_train`` and ``xsub_val``) stops the run, naming the shared ids.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.ntu_skeleton import ntu_meta_from_name
from skelact.data.formats.pyskl_pickle import (
    KpfileReader,
    PysklFile,
    annotation_to_sample,
    is_compressed,
    load_pyskl_pickle,
    store_split_name,
)
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.prepare.source_options import (
    ClassCountOptions,
    LayoutOptions,
    check_inferred_classes,
    class_names,
    layout_for_joints,
    layout_option,
)
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError, FormatError
from skelact.options import option
from skelact.skeleton import get_layout

MAX_LISTED_IDS = 5  # sample ids named in an overlap error; the count is always complete


class PysklContext:
    """Everything one annotation's parse needs; lives in the main process (the job is not parallel)."""

    def __init__(
        self,
        loaded: PysklFile,
        num_joints: int,
        num_classes: int,
        kpfiles: KpfileReader,
        box_thr: float | None,
    ) -> None:
        self.loaded, self.num_joints, self.num_classes = loaded, num_joints, num_classes
        self.kpfiles, self.box_thr = kpfiles, box_thr


def parse_pyskl_item(context: PysklContext, index: int) -> list[SkeletonSample]:
    ann = context.loaded.annotations[index]
    return [
        annotation_to_sample(
            ann,
            index,
            path=context.loaded.path,
            num_joints=context.num_joints,
            num_classes=context.num_classes,
            kpfiles=context.kpfiles,
            box_thr=context.box_thr,
        )
    ]


def describe_pyskl_item(loaded: PysklFile, index: int) -> str:
    return f"{loaded.path} {annotation_place(loaded, index)}"


def annotation_place(loaded: PysklFile, index: int) -> str:
    """``annotation 7 (S001C001P001R001A001)``: the index, and the sample id when there is one."""
    frame_dir = loaded.annotations[index].get("frame_dir", loaded.annotations[index].get("filename"))
    return f"annotation {index}" + (f" ({frame_dir})" if isinstance(frame_dir, str) else "")


class PysklSplits:
    """The file's split lists as store index arrays, PYSKL names mapped to store names."""

    def __init__(self, split: Mapping[str, list[str]] | None) -> None:
        self.split = dict(split or {})

    def __call__(self, table: SampleTable) -> dict[str, np.ndarray]:
        position = {sample_id: i for i, sample_id in enumerate(table.ids)}
        result: dict[str, np.ndarray] = {}
        for name, members in self.split.items():
            kept = [position[m] for m in members if m in position]
            result[store_split_name(name)] = np.asarray(sorted(kept), dtype=np.int64)
        return result


@dataclass(frozen=True, kw_only=True)
class PysklOptions(ClassCountOptions, LayoutOptions):
    """`skelact prepare pyskl` options (bases listed so that ``--layout`` comes first)."""

    layout: str | None = layout_option("default: from the joint count, 25 ntu25, 17 coco17, 18 openpose18")
    kpfiles: Path | None = option("folder of the kpfiles of a Kinetics compressed annotation file", None)
    box_thr: float | None = option(
        "compressed files: drop skeletons with a box score below this (0.5..0.9; default: keep all)", None
    )


@register_preparer("pyskl")
class PysklPreparer(JobRecipe[PysklOptions]):
    name: str
    help = "PYSKL / MMAction2 annotation pickle (NTU 3D, 2D HRNet, Kinetics compressed with kpfiles)"
    options_type = PysklOptions

    def build(self, raw: Path, options: PysklOptions) -> PrepareJob:
        raw = Path(raw)
        if raw.is_dir():
            raise ConfigError(f"{raw} is a folder", hint="`raw` takes the annotation .pkl file itself")
        loaded = load_pyskl_pickle(raw)
        if not loaded.annotations:
            raise ConfigError(f"{raw} holds no annotations")
        _check_unique_ids(loaded)
        kpfiles_dir = options.kpfiles
        folders = [kpfiles_dir] if kpfiles_dir is not None else [raw.parent, raw.parent / "kpfiles"]
        kpfiles = KpfileReader(folders)
        compressed = any(is_compressed(ann) for ann in loaded.annotations)
        if options.layout:
            layout = get_layout(options.layout).name  # each annotation is then checked against it
        else:
            layout = layout_for_joints(_num_joints(loaded, kpfiles))
        num_joints = get_layout(layout).num_joints
        ntu = all(_is_ntu_labelled(ann) for ann in loaded.annotations)
        labelled = _integer_labels(loaded)
        if options.class_names is None and options.num_classes is None and not ntu:
            check_inferred_classes(
                [label for _, label in labelled],
                lambda i: (loaded.path, annotation_place(loaded, labelled[i][0])),
            )
        names = class_names(
            options.class_names,
            num_classes=options.num_classes,
            min_classes=max(label for _, label in labelled) + 1,
            ntu=ntu,
        )
        box_thr = options.box_thr
        split_map = _split_map(loaded)
        _refuse_train_test_overlap(loaded, split_map)
        context = PysklContext(loaded, num_joints, len(names), kpfiles, box_thr)
        provenance: dict[str, Any] = {
            "recipe": "pyskl",
            "format": "pyskl-pickle",
            "raw": str(raw.resolve()),
            "layout": layout,
            "num_classes": len(names),
            "class_names_from": str(options.class_names) if options.class_names else "numbered",
            "split_names": split_map,
            "split_ids_without_annotation": _dangling_split_ids(loaded),
            "compressed": compressed,
        }
        if compressed:
            provenance.update(
                kpfiles=None if kpfiles_dir is None else str(Path(kpfiles_dir).resolve()),
                box_thr=box_thr,
                max_persons_per_frame=10,
                decompress="PYSKL DecompressPose(squeeze=True, max_person=10)",
            )
        return PrepareJob(
            items=list(range(len(loaded.annotations))),
            parse=functools.partial(parse_pyskl_item, context),
            layout=layout,
            class_names=names,
            splits=PysklSplits(loaded.split),
            val_groups="subject",
            provenance=provenance,
            parallel=False,
            describe=functools.partial(describe_pyskl_item, loaded),
        )


def _is_ntu_labelled(ann: dict[str, Any]) -> bool:
    """An NTU sample name whose label is its action id - 1 (then NTU's action names are the classes)."""
    action = ntu_meta_from_name(_raw_id(ann)).get("action")
    return action is not None and ann.get("label") == action - 1


def _raw_id(ann: dict[str, Any]) -> str:
    sample_id = ann.get("frame_dir", ann.get("filename"))
    return sample_id if isinstance(sample_id, str) else ""


def _check_unique_ids(loaded: PysklFile) -> None:
    first: dict[str, int] = {}
    for i, ann in enumerate(loaded.annotations):
        sample_id = _raw_id(ann)
        if not sample_id:
            continue  # reported as a bad annotation when parsed
        if sample_id in first:
            raise FormatError(
                f"frame_dir {sample_id!r} is used twice (also by annotation {first[sample_id]})",
                path=loaded.path,
                where=f"annotation {i}",
            )
        first[sample_id] = i


def _num_joints(loaded: PysklFile, kpfiles: KpfileReader) -> int:
    """V from the first annotation with a keypoint array, inline or (compressed) in its kpfile."""
    for i, ann in enumerate(loaded.annotations):
        kp = ann.get("keypoint")
        if isinstance(kp, np.ndarray) and kp.ndim in (3, 4):
            return int(kp.shape[-2])
        if kp is None and isinstance(ann.get("raw_file"), str) and is_compressed(ann):
            rows = kpfiles.rows(ann["raw_file"], loaded.sample_id(i))
            if rows.ndim == 3:
                return int(rows.shape[1])
    raise FormatError("no annotation holds a keypoint array to infer the joint count from", path=loaded.path)


def _integer_labels(loaded: PysklFile) -> list[tuple[int, int]]:
    """(annotation index, label) of every integer label; the others are reported when parsed."""
    labels = [
        (i, int(a["label"]))
        for i, a in enumerate(loaded.annotations)
        if isinstance(a.get("label"), (int, np.integer)) and not isinstance(a.get("label"), (bool, np.bool_))
    ]
    if not labels:
        raise FormatError("no annotation has an integer 'label'", path=loaded.path)
    return labels


def _refuse_train_test_overlap(loaded: PysklFile, split_map: Mapping[str, str]) -> None:
    """A sample listed in both the training and the test split of one protocol would be tested on after
    being trained on; PYSKL loads such a file without a word, so the lists are compared here."""
    if loaded.split is None:
        return
    by_store = {store: name for name, store in split_map.items()}
    for store, name in by_store.items():
        if store != "train" and not store.endswith("_train"):
            continue
        test_name = by_store.get(store[: -len("train")] + "test")
        if test_name is None:
            continue
        test_ids = set(loaded.split[test_name])
        shared = list(dict.fromkeys(m for m in loaded.split[name] if m in test_ids))
        if shared:
            shown = ", ".join(repr(m) for m in shared[:MAX_LISTED_IDS])
            more = f" and {len(shared) - MAX_LISTED_IDS} more" if len(shared) > MAX_LISTED_IDS else ""
            raise FormatError(
                f"splits {name!r} and {test_name!r} (its test set) share {len(shared)} sample ids: "
                f"{shown}{more}",
                path=loaded.path,
                where="key 'split'",
                hint="a sample may be in the training or the test split of a protocol, not both",
            )


def _split_map(loaded: PysklFile) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for name in loaded.split or {}:
        target = store_split_name(name)
        clash = next((k for k, v in mapping.items() if v == target), None)
        if clash is not None:
            raise FormatError(
                f"splits {clash!r} and {name!r} would both become {target!r} in the store "
                "(PYSKL's *_val is the test set)",
                path=loaded.path,
                where="key 'split'",
            )
        mapping[name] = target
    return mapping


def _dangling_split_ids(loaded: PysklFile) -> dict[str, int]:
    """Per split, how many listed ids have no annotation (PYSKL ignores them; we record the count)."""
    ids = {_raw_id(a) for a in loaded.annotations}
    counts = {name: sum(m not in ids for m in members) for name, members in (loaded.split or {}).items()}
    return {name: n for name, n in counts.items() if n}
