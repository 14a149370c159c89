"""Time `skelact prepare nw-ucla` on the full NW-UCLA set (1,484 JSON files, 37.6 MB).

Each run goes through the real command line (process pool, cross-view split, validation carve, atomic
store write) into a fresh temporary folder; the figure is the median wall time of `--runs` runs, printed
as one JSON line. The issue asks for under 30 s on 2 cores:

    python benchmarks/prepare_nw_ucla.py                       # ../shared/data/nw_ucla, 2 workers, 3 runs
    taskset -c 0,1 python benchmarks/prepare_nw_ucla.py        # also pin the process to 2 cores
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from skelact.cli.main import main as skelact
from skelact.data.store import SkeletonStore

DEFAULT_RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nw_ucla"


def one_run(raw: Path, workers: int, val_fraction: float) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "store"
        args = ["prepare", "nw-ucla", "--raw", str(raw), "--out", str(out), "--workers", str(workers)]
        args += ["--val-fraction", str(val_fraction), "--no-progress"]
        start = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for the one JSON line
            status = skelact(args)
        if status != 0:
            raise SystemExit("skelact prepare nw-ucla failed")
        seconds = time.perf_counter() - start  # includes the store write; imports are done once
        return seconds, len(SkeletonStore(out))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="NW-UCLA folder (holding all_sqe/)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    args = parser.parse_args(argv)
    if not (args.raw / "all_sqe").is_dir() and not args.raw.is_dir():
        raise SystemExit(f"{args.raw} is absent: pass --raw with the NW-UCLA all_sqe folder or its parent")
    times, samples = [], 0
    for _ in range(args.runs):
        seconds, samples = one_run(args.raw, args.workers, args.val_fraction)
        times.append(seconds)
    median = statistics.median(times)
    result = {
        "seconds": round(median, 3),
        "samples": samples,
        "samples_per_second": round(samples / median, 1),
        "runs": [round(t, 3) for t in times],
        "workers": args.workers,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
