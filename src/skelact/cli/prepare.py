"""`skelact prepare <source> ...`: raw data → packed store."""

from __future__ import annotations

from skelact.cli.main import QuietArgumentParser
from skelact.errors import SkelactError


def run_prepare(args: list[str]) -> int:
    parser = QuietArgumentParser(prog="skelact prepare", description="Write a packed store.")
    sources = parser.add_subparsers(dest="source", required=True, parser_class=QuietArgumentParser)
    synthetic = sources.add_parser("synthetic", help="the embedded procedural dataset (12 actions)")
    synthetic.add_argument("--out", required=True, help="directory of the new store")
    synthetic.add_argument("--per-class", type=int, default=100, help="samples per class (default 100)")
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.add_argument("--dims", type=int, choices=(2, 3), default=3, help="3 = ntu25 3D, 2 = coco17 2D")
    synthetic.add_argument("--subjects", type=int, default=20, help="number of distinct synthetic people")
    synthetic.add_argument("--overwrite", action="store_true", help="replace an existing store")
    options = parser.parse_args(args)
    if options.source == "synthetic":
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
