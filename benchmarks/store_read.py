"""Store read throughput: 64-frame clips per second, read the way a data-loader worker reads them.

Builds a temporary store (2,000 samples, 2 persons x 100-300 frames x 25 joints x 3), then for every sample
draws a sorted random frame selection (one frame per equal segment, PYSKL's UniformSample), calls
`store.read(i, frames)` and makes the result contiguous. Single process, median of 5 runs, one JSON line.
The page cache is warm after the first run, as it is for a store that fits in memory during training.
``--dtype float16`` times a float16 store (read back as float32 through torch's F16C cast).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore, write_store


def synthetic_samples(n: int, persons: int, joints: int, seed: int) -> Iterator[SkeletonSample]:
    rng = np.random.default_rng(seed)
    for i in range(n):
        t = int(rng.integers(100, 301))
        kp = rng.normal(size=(persons, t, joints, 3)).astype(np.float32)
        yield SkeletonSample(kp, i % 10, meta={"subject": i % 20}, sample_id=f"b{i:05d}")


def one_pass(store: SkeletonStore, clip_len: int, rng: np.random.Generator) -> float:
    segments = np.arange(clip_len)
    start = time.perf_counter()
    for i in range(len(store)):
        t = int(store.lengths[i])
        frames = ((segments + rng.random(clip_len)) * (t / clip_len)).astype(
            np.int64
        )  # sorted by construction
        kp, _ = store.read(i, frames)
        np.ascontiguousarray(kp)
    return len(store) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--clip-len", type=int, default=64)
    parser.add_argument("--persons", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16"))
    args = parser.parse_args()
    joints = 25
    with tempfile.TemporaryDirectory() as tmp:
        path = write_store(
            Path(tmp) / "bench",
            synthetic_samples(args.samples, args.persons, joints, seed=0),
            layout="ntu25",
            class_names=[f"class{c}" for c in range(10)],
            dtype=args.dtype,
        )
        store = SkeletonStore(path)
        rng = np.random.default_rng(0)
        rates = [one_pass(store, args.clip_len, rng) for _ in range(args.runs)]
    print(
        json.dumps(
            {
                "samples_per_s": round(float(np.median(rates))),
                "dtype": args.dtype,
                "clip_len": args.clip_len,
                "persons": args.persons,
                "joints": joints,
                "n_samples": args.samples,
                "runs": args.runs,
            }
        )
    )


if __name__ == "__main__":
    main()
