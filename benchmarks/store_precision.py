"""What float16 storage costs in precision, and what float32 costs in size and read speed, on NW-UCLA.

Prepares the full NW-UCLA set twice through the real command line (``--dtype float32`` and
``--dtype float16``), then prints one JSON line with:

- ``relative_rms_error``: for each modality feature the model can see (joint, bone, joint motion, bone
  motion, computed by `skelact.models.inputs.ModalityFeatures` on whole sequences), the RMS of
  (float16 value - float32 value) over all samples, divided by the RMS of the float32 values; and the
  largest absolute difference;
- ``frame_bytes``: the size of each store's frame file, and ``sha256_mb_per_s`` the speed of the full
  checksum check that the first open of a store makes (median of ``--runs`` forced checks);
- ``clips_per_s``: single-process reads of one 64-frame clip per sample (PYSKL's uniform sampling, as a
  loader worker reads them), median of ``--runs`` passes over the whole set, warm page cache.

    python benchmarks/store_precision.py                  # ../shared/data/nw_ucla, 7 timed passes
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

import numpy as np
import torch

from skelact.cli.main import main as skelact
from skelact.data.store import SkeletonStore
from skelact.models.inputs.modality import ModalityFeatures

DEFAULT_RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nw_ucla"
MODALITIES = ("j", "b", "jm", "bm")


def prepare(raw: Path, out: Path, dtype: str) -> SkeletonStore:
    args = ["prepare", "nw-ucla", "--raw", str(raw), "--out", str(out), "--workers", "2", "--no-progress"]
    with contextlib.redirect_stdout(sys.stderr):  # keep stdout for the one JSON line
        if skelact([*args, "--dtype", dtype]) != 0:
            raise SystemExit(f"skelact prepare nw-ucla --dtype {dtype} failed")
    return SkeletonStore(out)


def feature_errors(exact: SkeletonStore, rounded: SkeletonStore) -> dict[str, dict[str, float]]:
    """Relative RMS error and largest absolute error of each modality, float16 against float32."""
    features = ModalityFeatures(exact.layout, MODALITIES, num_coords=exact.num_channels)
    squared_error = dict.fromkeys(MODALITIES, 0.0)
    squared_value = dict.fromkeys(MODALITIES, 0.0)
    largest = dict.fromkeys(MODALITIES, 0.0)
    c = exact.num_channels
    with torch.no_grad():
        for i in range(len(exact)):
            a = features(torch.from_numpy(exact.read(i)[0])[None]).double()
            b = features(torch.from_numpy(rounded.read(i)[0])[None]).double()
            for k, name in enumerate(MODALITIES):
                x, y = a[..., k * c : (k + 1) * c], b[..., k * c : (k + 1) * c]
                squared_error[name] += float(((y - x) ** 2).sum())
                squared_value[name] += float((x**2).sum())
                largest[name] = max(largest[name], float((y - x).abs().max()))
    return {
        name: {
            "relative_rms": round((squared_error[name] / squared_value[name]) ** 0.5, 6),
            "max_abs": round(largest[name], 6),
        }
        for name in MODALITIES
    }


def clip_rates(stores: dict[str, SkeletonStore], clip_len: int, runs: int) -> dict[str, float]:
    """Median clips/s of passes reading a sorted uniform `clip_len`-frame selection of every sample; the
    stores take turns pass by pass, so a change in machine load hits both alike."""
    rng = np.random.default_rng(0)
    segments = np.arange(clip_len)
    lengths = next(iter(stores.values())).lengths
    selections = [((segments + rng.random(clip_len)) * (int(t) / clip_len)).astype(np.int64) for t in lengths]
    rates: dict[str, list[float]] = {dtype: [] for dtype in stores}
    for _ in range(runs + 1):  # the first pass warms the page cache and the maps
        for dtype, store in stores.items():
            start = time.perf_counter()
            for i, frames in enumerate(selections):
                np.ascontiguousarray(store.read(i, frames)[0])
            rates[dtype].append(len(store) / (time.perf_counter() - start))
    return {dtype: round(statistics.median(values[1:])) for dtype, values in rates.items()}


def hash_rate(store: SkeletonStore, runs: int) -> float:
    checks = [store.verify()[0] for _ in range(runs)]
    return round(statistics.median(check.bytes / check.seconds / 1e6 for check in checks))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="NW-UCLA folder (holding all_sqe/)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--clip-len", type=int, default=64)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        stores = {dtype: prepare(args.raw, Path(tmp) / dtype, dtype) for dtype in ("float32", "float16")}
        exact, rounded = stores["float32"], stores["float16"]
        result = {
            "dataset": "nw_ucla",
            "samples": len(exact),
            "relative_rms_error": feature_errors(exact, rounded),
            "frame_bytes": {
                dtype: (store.path / store.verification[0].name).stat().st_size
                for dtype, store in stores.items()
            },
            "sha256_mb_per_s": hash_rate(exact, args.runs),
            "clips_per_s": clip_rates(stores, args.clip_len, args.runs),
            "clip_len": args.clip_len,
            "runs": args.runs,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
