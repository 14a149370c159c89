"""`skelact prepare longtail --store S --split xsub_train --n-max 600 --rho 100 [--seed 0]` (or ``--list
FILE``): write a long-tailed subset of a training split into an existing store as a new named split."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelact.data.prepare.longtail import (
    default_split_name,
    longtail_counts,
    longtail_subset,
    read_name_list,
    subset_from_names,
)
from skelact.data.prepare.registry import register_preparer
from skelact.errors import ConfigError
from skelact.options import Options, option


@dataclass(frozen=True, kw_only=True)
class LongtailOptions(Options):
    """The subset by the exponential rule (`n_max`, `rho`, `seed`) or by an official list (`list_file`)."""

    store: Path = option("the store to add the split to")
    split: str = option(
        "source split, e.g. xsub_train (validation carved out) or xsub_train_full (the official set)"
    )
    n_max: int | None = option("size of the head class (class 0), e.g. 600 for NTU", None)
    rho: float | None = option("imbalance ratio n_max / n_tail, e.g. 100", None)
    seed: int = option("seed of the per-class shuffle (default 0)", 0)
    list_file: Path | None = option(
        "official list file, one sample name per line (instead of the rule)", None, flag="--list"
    )
    name: str | None = option("new split name (default: <split>_lt<rho> or <split>_<list stem>)", None)
    overwrite: bool = option("replace a split of the same name", False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.list_file is not None and (self.n_max is not None or self.rho is not None):
            raise ConfigError("`list_file` and `n_max`/`rho` are alternatives", hint="give one of them")
        if self.list_file is None and (self.n_max is None or self.rho is None):
            raise ConfigError(
                "`n_max` and `rho` are required", hint="or pass `list_file` with an official list"
            )


@dataclass
class LongtailSummary:
    """The new split and what a user should know about it."""

    store: Path
    name: str
    source_split: str
    source_size: int
    counts: np.ndarray
    targets: np.ndarray | None = None  # the rule's class sizes; None for a list
    overlaps: dict[str, int] = field(default_factory=dict)  # validation split -> samples shared with it

    def lines(self) -> list[str]:
        counts = self.counts
        lines = [
            f"wrote split {self.name} into {self.store}: {int(counts.sum())} samples of {self.source_size} "
            f"in {self.source_split}, class sizes {counts.max()} (largest) to {counts.min()} (smallest)"
        ]
        if self.targets is not None:
            short = np.flatnonzero(counts < self.targets)
            if short.size:
                c = short[0]
                lines.append(
                    f"  {short.size} classes have fewer samples than the rule asks for (e.g. class {c}: "
                    f"{counts[c]} < {self.targets[c]}); sizes match the paper's only when every class "
                    "has at least n_max (use the official training set, e.g. xsub_train_full)"
                )
        for val, shared in self.overlaps.items():
            lines.append(
                f"  warning: {shared} samples of {self.name} are also in {val}: do not select models on {val}"
            )
        return lines


@register_preparer("longtail")
class LongtailRecipe:
    """Adds a split to a store instead of writing one, so it takes a store, not ``--raw``/``--out``."""

    name: str
    help = "add a long-tailed subset of a training split to an existing store (BRL: exponential rule or list)"
    option_types = (LongtailOptions,)

    def prepare(self, options: LongtailOptions) -> LongtailSummary:
        from skelact.data.store import SkeletonStore
        from skelact.data.store_splits import add_split

        store = SkeletonStore(options.store)
        source = store.split(options.split)
        record: dict[str, object] = {"kind": "longtail", "source_split": options.split}
        targets = None
        if options.list_file is not None:
            names = read_name_list(options.list_file)
            indices = subset_from_names(
                store.sample_ids, names, allowed=source, source=str(options.list_file)
            )
            record.update(list_file=str(options.list_file.resolve()))
        else:
            assert options.n_max is not None and options.rho is not None  # checked by LongtailOptions
            targets = longtail_counts(options.n_max, options.rho, store.num_classes)
            indices = longtail_subset(source, store.labels[source], targets, options.seed)
            record.update(n_max=options.n_max, rho=options.rho, seed=options.seed, targets=targets.tolist())
        counts = np.bincount(store.labels[indices], minlength=store.num_classes)
        record["counts"] = counts.tolist()
        name = options.name or default_split_name(options.split, options.rho, options.list_file)
        add_split(store.path, name, indices, record=record, overwrite=options.overwrite)
        overlaps = {
            val: int(np.isin(indices, store.split(val)).sum())
            for val in store.splits
            if val != options.split and val.endswith("val")
        }
        return LongtailSummary(
            store.path,
            name,
            options.split,
            source.size,
            counts,
            targets,
            {k: n for k, n in overlaps.items() if n},
        )
