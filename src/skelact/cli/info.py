"""`skelact info STORE`: what a store holds."""

from __future__ import annotations

import json

import numpy as np

from skelact.cli.main import QuietArgumentParser


def run_info(args: list[str]) -> int:
    parser = QuietArgumentParser(prog="skelact info", description="Summarise a packed store.")
    parser.add_argument("store")
    options = parser.parse_args(args)
    from skelact.data.store import SkeletonStore

    store = SkeletonStore(options.store)
    lengths, persons = np.asarray(store.lengths), np.asarray(store.num_persons)
    print(f"store      {store.path}")
    print(
        f"samples    {len(store)}  layout {store.layout.name} ({store.layout.num_joints} joints)  "
        f"coords {store.num_channels}  scores {'yes' if store.has_score else 'no'}"
    )
    print(f"frames     min {lengths.min()}  median {int(np.median(lengths))}  max {lengths.max()}")
    print("persons    " + "  ".join(f"{m}: {int((persons == m).sum())}" for m in np.unique(persons)))
    print("splits     " + "  ".join(f"{name} {len(idx)}" for name, idx in store.splits.items()))
    print("classes")
    for name, idx in store.splits.items():
        counts = np.bincount(store.labels[idx], minlength=store.num_classes)
        print(f"  {name:<12} " + " ".join(str(c) for c in counts))
    print("           " + ", ".join(f"{i}={n}" for i, n in enumerate(store.class_names)))
    print("provenance " + json.dumps(store.provenance, default=str))
    return 0
