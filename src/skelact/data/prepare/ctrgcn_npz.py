"""`skelact prepare ctrgcn-npz`: one CTR-GCN ``.npz`` (spec 2.4) to a store.

The file is memory-mapped and read row by row in the main process (``parallel=False``); each row is an
item, so ``--skip-bad`` lists a bad row as ``NTU60_CS.npz x_train row 123``. Splits: ``<protocol>_train``
(the ``x_train`` rows) and ``<protocol>_test`` (``x_test``), the protocol taken from ``--protocol`` or the
file name (``NTU60_CS`` / ``NTU60_XSub`` -> xsub, ``NTU60_CV`` / ``XView`` -> xview, ``NTU120_CSub`` -> xsub,
``NTU120_CSet`` -> xset), else plain ``train`` / ``test``. There are no subjects in the file, so
validation is carved stratified by class.

The second actor of a single-actor sample (zeros in NTU-60 files, a copy of actor 1 in NTU-120 files) is
dropped either way; the provenance counts how many rows had a zero, a copied and a real second actor, next
to the convention ``--dataset`` expects.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.ctrgcn_npz import SECOND_ACTOR_BY_DATASET, CtrgcnNpz
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.prepare.source_options import ClassNamesOptions, check_inferred_classes, class_names
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError
from skelact.options import option

DATASET_CLASSES = {"ntu60": 60, "ntu120": 120}
_PROTOCOLS = (
    (re.compile(r"(cs|xsub|csub)$"), "xsub"),
    (re.compile(r"(cv|xview)$"), "xview"),
    (re.compile(r"(cset|xset)$"), "xset"),
)


def protocol_from_name(stem: str) -> str | None:
    """``NTU60_CS`` -> xsub, ``NTU120_CSet`` -> xset, ``NTU60_XView`` -> xview; None when not recognised."""
    tail = stem.lower().rsplit("_", 1)[-1]
    return next((protocol for pattern, protocol in _PROTOCOLS if pattern.match(tail)), None)


def dataset_from_name(stem: str) -> str | None:
    match = re.match(r"ntu(60|120)", stem.lower())
    return f"ntu{match.group(1)}" if match else None


class NpzContext:
    """The open file and the running second-actor count (shared with the job's provenance dict)."""

    def __init__(self, npz: CtrgcnNpz, counts: dict[str, int]) -> None:
        self.npz, self.counts = npz, counts


def parse_npz_item(context: NpzContext, item: tuple[str, int]) -> list[SkeletonSample]:
    part, row = item
    sample = context.npz.sample(part, row)
    context.counts[sample.meta["second_actor"]] = context.counts.get(sample.meta["second_actor"], 0) + 1
    return [sample]


def describe_npz_item(path: Path, item: tuple[str, int]) -> str:
    return f"{path} x_{item[0]} row {item[1]}"


class PartSplits:
    """``<protocol>_train`` / ``<protocol>_test`` from each sample's ``part`` meta."""

    def __init__(self, protocol: str | None) -> None:
        self.prefix = f"{protocol}_" if protocol else ""

    def __call__(self, table: SampleTable) -> dict[str, np.ndarray]:
        parts = np.asarray([m["part"] for m in table.meta], dtype=object)
        return {f"{self.prefix}{p}": np.flatnonzero(parts == p) for p in ("train", "test")}


@dataclass(frozen=True, kw_only=True)
class CtrgcnNpzOptions(ClassNamesOptions):
    """`skelact prepare ctrgcn-npz` options."""

    dataset: str | None = option(
        "ntu60 (second actor zero) or ntu120 (a copy); default: from the file name or class count",
        None,
        choices=sorted(DATASET_CLASSES),
    )
    protocol: str | None = option("split prefix, e.g. xsub, xview, xset (default: from the file name)", None)


@register_preparer("ctrgcn-npz")
class CtrgcnNpzPreparer(JobRecipe[CtrgcnNpzOptions]):
    name: str
    help = "CTR-GCN .npz (NTU60_CS.npz, NTU120_CSet.npz, ...): x_train/x_test (N, 300, 150), one-hot y"
    options_type = CtrgcnNpzOptions

    def build(self, raw: Path, options: CtrgcnNpzOptions) -> PrepareJob:
        raw = Path(raw)
        if raw.is_dir():
            raise ConfigError(f"{raw} is a folder", hint="`raw` takes the .npz file itself")
        npz = CtrgcnNpz(raw)
        dataset = options.dataset or dataset_from_name(raw.stem)
        if dataset is None:
            dataset = next((d for d, n in DATASET_CLASSES.items() if n == npz.num_classes), None)
        found = npz.num_classes or 0  # one-hot width, or largest integer label + 1
        if dataset is not None and found > DATASET_CLASSES[dataset]:
            raise ConfigError(f"{raw} has {found} classes, more than {dataset}'s {DATASET_CLASSES[dataset]}")
        if npz.one_hot:
            exact: int | None = found  # the one-hot width is the class count
        else:
            exact = DATASET_CLASSES[dataset] if dataset is not None else None
        if exact is None and options.class_names is None and npz.class_names is None:
            rows = npz.items()  # integer labels, count inferred: a stray label must not invent classes
            check_inferred_classes(
                np.concatenate([np.asarray(npz.labels[part]) for part in dict.fromkeys(p for p, _ in rows)]),
                lambda i: (raw, f"y_{rows[i][0]} row {rows[i][1]}"),
                has_num_classes=False,  # the recipe has no such option: the count comes from --dataset
            )
        names = class_names(
            options.class_names,
            num_classes=exact,
            min_classes=found,
            fallback=npz.class_names,
            ntu=dataset is not None,
        )
        protocol = options.protocol or protocol_from_name(raw.stem)
        counts: dict[str, int] = Counter()
        provenance: dict[str, Any] = {
            "recipe": "ctrgcn-npz",
            "format": "ctrgcn-npz",
            "raw": str(raw.resolve()),
            "dataset": dataset,
            "protocol": protocol,
            "expected_second_actor": SECOND_ACTOR_BY_DATASET.get(dataset or "", "unknown"),
            "second_actor_counts": counts,  # filled while parsing; read when the store is written
            "sample_ids": "from skelact_ids_*" if npz.has_ids else "row order: train_NNNNNN / test_NNNNNN",
            "valid_length": "last frame with a non-zero value + 1 (end padding cut)",
        }
        return PrepareJob(
            items=npz.items(),
            parse=functools.partial(parse_npz_item, NpzContext(npz, counts)),
            layout="ntu25",
            class_names=names,
            splits=PartSplits(protocol),
            val_groups=None,
            provenance=provenance,
            parallel=False,
            describe=functools.partial(describe_npz_item, raw),
        )
