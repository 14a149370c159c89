"""`skelact info STORE [--verify]`: counts per split and class, lengths, persons, layout, storage dtype,
checksum state and provenance of a store.

Opening a store already checks the frame files' SHA-256 the first time (remembered per file version);
``--verify`` hashes them again whatever was remembered, for data copied around or suspected of bit rot.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from skelact.cli.main import QuietArgumentParser

PERCENTILES = (0, 5, 50, 95, 100)


def store_summary(store: Any) -> dict[str, Any]:
    """The facts `skelact info` prints, as one JSON-compatible dict (also the `--json` output)."""
    lengths, persons = np.asarray(store.lengths), np.asarray(store.num_persons)
    per_class = {
        name: np.bincount(store.labels[idx], minlength=store.num_classes).tolist()
        for name, idx in store.splits.items()
    }
    return {
        "path": str(store.path),
        "samples": len(store),
        "layout": {
            "name": store.layout.name,
            "joints": store.layout.num_joints,
            "center": store.layout.joint_names[store.layout.center],
        },
        "coords": store.num_channels,
        "scores": store.has_score,
        "dtype": store.dtype,
        "checksums": [
            {
                "file": check.name,
                "bytes": check.bytes,
                "hashed_now": check.hashed,
                "seconds": round(check.seconds, 3),
            }
            for check in store.verification
        ],
        "frames": {f"p{p}": float(np.percentile(lengths, p)) for p in PERCENTILES}
        | {"mean": round(float(lengths.mean()), 2), "total": int(lengths.sum())},
        "persons": {str(m): int((persons == m).sum()) for m in np.unique(persons)},
        "splits": {name: len(idx) for name, idx in store.splits.items()},
        "class_names": list(store.class_names),
        "per_class": per_class,
        "provenance": store.provenance,
        "fingerprint": store.fingerprint,
    }


def run_info(args: list[str]) -> int:
    parser = QuietArgumentParser(prog="skelact info", description="Summarise a packed store.")
    parser.add_argument("store")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="hash the frame files in full now, even if an earlier check is remembered",
    )
    options = parser.parse_args(args)
    from skelact.data.store import SkeletonStore

    store = SkeletonStore(options.store, verify="always" if options.verify else "once")
    summary = store_summary(store)
    if options.json:
        print(json.dumps(summary, indent=1, default=str))
        return 0
    frames, layout = summary["frames"], summary["layout"]
    print(f"store      {summary['path']}")
    print(
        f"samples    {summary['samples']}  layout {layout['name']} ({layout['joints']} joints, centre "
        f"{layout['center']})  coords {summary['coords']}  scores {'yes' if summary['scores'] else 'no'}"
    )
    print(
        "frames     "
        + "  ".join(
            f"{key} {frames[f'p{p}']:g}"
            for key, p in zip(("min", "p5", "median", "p95", "max"), PERCENTILES, strict=True)
        )
        + f"  mean {frames['mean']:g}"
    )
    print("persons    " + "  ".join(f"{m}: {count}" for m, count in summary["persons"].items()))
    print(f"storage    {summary['dtype']}")
    for check in summary["checksums"]:
        how = (
            f"hashed now in {check['seconds']:.2f} s"
            if check["hashed_now"]
            else "remembered from an earlier check"
        )
        print(f"checksum   {check['file']} ({check['bytes']:,} bytes): SHA-256 matches the manifest, {how}")
    print("splits     " + "  ".join(f"{name} {count}" for name, count in summary["splits"].items()))
    split_names = list(summary["per_class"])
    width = max([len(n) for n in summary["class_names"]] + [5])
    print(
        "classes    "
        + f"{'':>4} {'name':<{width}} "
        + " ".join(f"{n:>{max(len(n), 5)}}" for n in split_names)
    )
    for c, name in enumerate(summary["class_names"]):
        counts = " ".join(f"{summary['per_class'][n][c]:>{max(len(n), 5)}}" for n in split_names)
        print(f"           {c:>4} {name:<{width}} {counts}")
    print("provenance")
    for key, value in summary["provenance"].items():
        print(f"  {key:<20} {_short(value)}")
    return 0


def _short(value: Any, limit: int = 160) -> str:
    """One line per provenance entry; long lists (skipped files, ...) keep their count and head."""
    if isinstance(value, list) and len(value) > 5:
        head = json.dumps(value[:3], default=str)[:-1]
        return f"{head}, ... {len(value)} entries]"
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
