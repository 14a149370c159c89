"""Issue 18's NW-UCLA speed run: the highest last-epoch top-1 in a 15-minute training budget on 2 CPU cores,
printed as JSON (accuracy and wall times per seed).

Joint stream, cross-view: train on views 1 + 2 (1,020 clips, `train_full`, no validation), test on view 3
(464 clips) after the last epoch (no test-set selection). The recipe is `configs/recipes/nw_ucla_fast.yaml`
after `recipes/small.yaml` (ST-GCN++ at half width, 32 frames, cosine); `skelact fit --budget` sizes the
epochs to the budget from the measured epochs. By default the run is restricted to AVX2 (torch, oneDNN and
MKL, `cpu_isa.py`), as on the laptops and cloud VMs the figure is for; ``--native`` lifts that.

    python benchmarks/speedrun.py --store runs/nw_ucla/store --out runs/speedrun --seeds 0 1 2

A seed whose test metrics exist under ``--out`` is not run again. Time it on an otherwise idle machine.
Options after ``--`` go to both `skelact fit` and `skelact test` after the recipe, to try a candidate without
editing it (``-- --data.clip_len 32``); they are printed with the result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from cli_runs import last_ckpt, latest_test_metrics
from cpu_isa import AVX2_ENV

REPO = Path(__file__).resolve().parents[1]
CONFIGS = ("trainer/cpu.yaml", "data/nw_ucla.yaml", "model/stgcnpp.yaml", "recipes/small.yaml",
           "recipes/nw_ucla_fast.yaml", "streams/j.yaml")  # fmt: skip


def timed_skelact(args: list[str], env: dict[str, str]) -> float:
    """`skelact ARGS` in a child process; its wall time in seconds."""
    print("+ skelact " + " ".join(args), file=sys.stderr, flush=True)
    start = time.perf_counter()
    command = [sys.executable, "-m", "skelact.cli.main", *args]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def run_seed(
    store: str,
    root: Path,
    seed: int,
    budget: str,
    env: dict[str, str],
    configs: list[str],
    overrides: list[str],
) -> dict:
    args = [arg for name in configs for arg in ("--config", str(REPO / "configs" / name))]
    args += ["--data.store", store, "--data.train_split", "train_full", "--data.val_split", "null",
             "--seed_everything", str(seed), "--trainer.enable_progress_bar", "false",
             "--trainer.default_root_dir", str(root), *overrides]  # fmt: skip
    timing_file = root / "wall_time.json"
    if latest_test_metrics(root) is None:
        fit_s = timed_skelact(["fit", *args, "--budget", budget], env)
        test_s = timed_skelact(["test", *args, "--ckpt_path", str(last_ckpt(root))], env)
        timing_file.write_text(json.dumps({"fit_s": round(fit_s, 1), "test_s": round(test_s, 1)}))
    metrics = latest_test_metrics(root) or {}
    ckpt = last_ckpt(root)
    import torch

    epochs = torch.load(ckpt, map_location="cpu", weights_only=False).get("epoch", -1) + 1
    return {
        "seed": seed,
        "top1": metrics.get("top1"),
        "mean_class_accuracy": metrics.get("mean_class_accuracy"),
        "epochs": epochs,
        **(json.loads(timing_file.read_text()) if timing_file.is_file() else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="runs/nw_ucla/store")
    parser.add_argument("--out", default="runs/speedrun")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", default="15min")
    parser.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS of the runs")
    parser.add_argument("--native", action="store_true", help="do not restrict the CPU to AVX2")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=list(CONFIGS),
        help="config files under configs/, in order (a candidate)",
    )
    parser.add_argument("overrides", nargs="*", help="after --: options for the candidate recipe")
    options = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(options.threads), **({} if options.native else AVX2_ENV)}
    out = Path(options.out) / ("native" if options.native else "avx2")
    rows = [
        run_seed(
            options.store, out / f"seed{seed}", seed, options.budget, env, options.configs, options.overrides
        )
        for seed in options.seeds
    ]
    tops = [r["top1"] for r in rows if r["top1"] is not None]
    print(json.dumps({
        "recipe": options.configs,
        "overrides": options.overrides,
        "budget": options.budget,
        "cpu": "native" if options.native else "avx2",
        "threads": options.threads,
        "rows": rows,
        "top1_mean": round(sum(tops) / len(tops), 4) if tops else None,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
