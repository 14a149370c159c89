"""`skelact prepare longtail --store S --split xsub_train --n-max 600 --rho 100 [--seed 0]` (or ``--list
FILE``): write a long-tailed subset of a training split into an existing store as a new named split."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from skelact.errors import SkelactError

HELP = "add a long-tailed subset of a training split to an existing store (BRL: exponential rule or list)"


def add_longtail_parser(sources: argparse._SubParsersAction) -> None:
    parser = sources.add_parser("longtail", help=HELP, description=HELP)
    parser.add_argument("--store", type=Path, required=True, help="the store to add the split to")
    parser.add_argument(
        "--split",
        required=True,
        help="source split, e.g. xsub_train (validation carved out) or xsub_train_full (the official set)",
    )
    parser.add_argument("--n-max", type=int, help="size of the head class (class 0), e.g. 600 for NTU")
    parser.add_argument("--rho", type=float, help="imbalance ratio n_max / n_tail, e.g. 100")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-class shuffle (default 0)")
    parser.add_argument(
        "--list",
        type=Path,
        default=None,
        help="official list file, one sample name per line (instead of the rule)",
    )
    parser.add_argument("--name", help="new split name (default: <split>_lt<rho> or <split>_<list stem>)")
    parser.add_argument("--overwrite", action="store_true", help="replace a split of the same name")


def run_longtail(options: argparse.Namespace) -> int:
    from skelact.data.prepare.longtail import (
        default_split_name,
        longtail_counts,
        longtail_subset,
        read_name_list,
        subset_from_names,
    )
    from skelact.data.store import SkeletonStore
    from skelact.data.store_splits import add_split

    store = SkeletonStore(options.store)
    source = store.split(options.split)
    record: dict[str, object] = {"kind": "longtail", "source_split": options.split}
    if options.list is not None:
        if options.n_max is not None or options.rho is not None:
            raise SkelactError("--list and --n-max/--rho are alternatives", hint="give one of them")
        indices = subset_from_names(
            store.sample_ids, read_name_list(options.list), allowed=source, source=str(options.list)
        )
        record.update(list_file=str(options.list.resolve()))
    else:
        if options.n_max is None or options.rho is None:
            raise SkelactError("--n-max and --rho are required", hint="or pass --list with an official list")
        targets = longtail_counts(options.n_max, options.rho, store.num_classes)
        indices = longtail_subset(source, store.labels[source], targets, options.seed)
        record.update(n_max=options.n_max, rho=options.rho, seed=options.seed, targets=targets.tolist())
    counts = np.bincount(store.labels[indices], minlength=store.num_classes)
    record["counts"] = counts.tolist()
    name = options.name or default_split_name(options.split, options.rho, options.list)
    add_split(store.path, name, indices, record=record, overwrite=options.overwrite)
    print(
        f"wrote split {name} into {store.path}: {indices.size} samples of {source.size} in {options.split}, "
        f"class sizes {counts.max()} (largest) to {counts.min()} (smallest)"
    )
    if options.list is None:
        short = np.flatnonzero(counts < targets)
        if short.size:
            print(
                f"  {short.size} classes have fewer samples than the rule asks for (e.g. class {short[0]}: "
                f"{counts[short[0]]} < {targets[short[0]]}); sizes match the paper's only when every class "
                "has at least n_max (use the official training set, e.g. xsub_train_full)"
            )
    overlap = [k for k, v in store.splits.items() if k != options.split and k.endswith("val")]
    for val in overlap:
        shared = int(np.isin(indices, store.split(val)).sum())
        if shared:
            print(f"  warning: {shared} samples of {name} are also in {val}: do not select models on {val}")
    return 0
