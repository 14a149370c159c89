"""`skelact prepare <source> --raw PATH --out DIR [options]`: raw data → packed store."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from skelact.cli.main import QuietArgumentParser
from skelact.cli.prepare_longtail import add_longtail_parser, run_longtail
from skelact.errors import SkelactError


def run_prepare(args: list[str]) -> int:
    from skelact.data.prepare.registry import load_preparers

    parser = QuietArgumentParser(prog="skelact prepare", description="Write a packed store.")
    sources = parser.add_subparsers(dest="source", required=True, parser_class=QuietArgumentParser)
    _add_synthetic(sources)
    add_longtail_parser(sources)
    preparers = load_preparers()
    for name, preparer in preparers.items():
        sub = sources.add_parser(name, help=preparer.help, description=preparer.help)
        _add_common(sub)
        preparer.add_arguments(sub)
    options = parser.parse_args(args)
    if options.source == "synthetic":
        return _run_synthetic(options)
    if options.source == "longtail":
        return run_longtail(options)
    return _run_recipe(preparers[options.source], options)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, required=True, help="raw file or folder to read")
    parser.add_argument("--out", type=Path, required=True, help="directory of the new store")
    parser.add_argument(
        "--workers", type=int, default=None, help="parsing processes (default: all CPU cores)"
    )
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="list malformed inputs in the summary and the store's provenance instead of stopping",
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="fraction of each training split carved out as validation, by subject where known (0 = none)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the validation carve")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing store")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run_recipe(preparer: object, options: argparse.Namespace) -> int:
    from skelact.data.prepare.runner import run_job

    if not options.raw.exists():
        raise SkelactError(f"{options.raw} does not exist", hint="--raw takes the raw file or folder")
    if options.workers is not None and options.workers < 1:
        raise SkelactError("--workers must be at least 1")
    job = preparer.build(options.raw, options)  # type: ignore[attr-defined]
    summary = run_job(
        job,
        options.out,
        workers=options.workers or os.cpu_count(),
        skip_bad=options.skip_bad,
        val_fraction=options.val_fraction,
        seed=options.seed,
        progress=not options.no_progress,
        overwrite=options.overwrite,
    )
    print(
        f"wrote {summary.store}: {summary.written} samples from {summary.items} inputs "
        f"in {summary.seconds:.1f} s; skipped {len(summary.skipped)}, bad {len(summary.bad)}"
    )
    print("splits: " + ", ".join(f"{name} {count}" for name, count in summary.splits.items()))
    for title, entries in (("skipped", summary.skipped), ("bad", summary.bad)):
        for what, why in entries[:20]:
            print(f"  {title}: {what}: {why}")
        if len(entries) > 20:
            print(f"  ... {len(entries) - 20} more {title} (all listed in the store's provenance)")
    return 0


def _add_synthetic(sources: argparse._SubParsersAction) -> None:
    synthetic = sources.add_parser("synthetic", help="the embedded procedural dataset (12 actions)")
    synthetic.add_argument("--out", required=True, help="directory of the new store")
    synthetic.add_argument("--per-class", type=int, default=100, help="samples per class (default 100)")
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.add_argument("--dims", type=int, choices=(2, 3), default=3, help="3 = ntu25 3D, 2 = coco17 2D")
    synthetic.add_argument("--subjects", type=int, default=20, help="number of distinct synthetic people")
    synthetic.add_argument("--overwrite", action="store_true", help="replace an existing store")


def _run_synthetic(options: argparse.Namespace) -> int:
    from skelact.data.prepare.synthetic import prepare_synthetic
    from skelact.data.store import SkeletonStore

    if options.per_class < 1:
        raise SkelactError("--per-class must be at least 1")
    path = prepare_synthetic(
        options.out,
        per_class=options.per_class,
        seed=options.seed,
        dims=options.dims,
        num_subjects=options.subjects,
        overwrite=options.overwrite,
    )
    store = SkeletonStore(path)
    counts = ", ".join(f"{name} {len(idx)}" for name, idx in store.splits.items())
    print(f"wrote {path}: {len(store)} samples, layout {store.layout.name}, splits: {counts}")
    return 0
