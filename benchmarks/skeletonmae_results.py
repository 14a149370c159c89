"""SkeletonMAE's results at one CPU-sized budget, printed as JSON (issue 15; docs/methods/skeletonmae.md):

- pre-training for each target mode (`--targets`; the first one feeds the rows below): the loss per epoch
  (`train/rce`), the collapse monitor's last value (`train/embedding_spread`) and a loss-curve figure
  (`<out>/<dataset>/loss_curve.png`);
- STRL fine-tuned for the same number of epochs from a randomly initialised encoder and from the
  pre-trained one: top-1 and mean class accuracy on the test split (last epoch);
- linear evaluation (last epoch) and 1-NN of the pre-trained encoder's pooled features.

    python benchmarks/skeletonmae_results.py --store runs/nw_ucla/store --out runs/skeletonmae_results
    python benchmarks/skeletonmae_results.py --dataset jhmdb --store runs/jhmdb/store \
        --out runs/skeletonmae_results

Every command it runs is printed first; runs whose outputs exist are not repeated (re-run to continue).
Pre-training uses the whole training split without labels (`train_full` where the store has it), no
validation loop; fine-tuning and probes train on it too and test on the test split (NW-UCLA: view 3;
J-HMDB: split 1's test). J-HMDB (2D, one person, `skelact prepare jhmdb`) uses the same CPU overlays
(`configs/ssl/*_nw_ucla_cpu.yaml`: 32 frames, the same batches and epochs) with its own splits, so every
row of both datasets has one fine-tuning budget. On 2 shared CPU cores the defaults take roughly an hour on
NW-UCLA (three 20-epoch pre-trainings of about 10 minutes, two 15-epoch STRL runs of about 8 minutes).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
from cli_runs import last_ckpt, latest_test_metrics, skelact

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
DATASETS = {
    "nw_ucla": {"data": "nw_ucla.yaml", "prefix": "", "test": "test"},
    "jhmdb": {"data": "jhmdb.yaml", "prefix": "split1_", "test": "split1_test"},
}


def train_split(store: str, prefix: str) -> str:
    """The whole training set: `<prefix>train_full` where validation was carved from it, else `train`."""
    names = np.load(Path(store) / "splits.npz").files
    return f"{prefix}train_full" if f"{prefix}train_full" in names else f"{prefix}train"


def data_args(store: str, dataset: str, *overlays: str) -> list[str]:
    spec = DATASETS[dataset]
    return [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / spec["data"]),
        *(arg for name in overlays for arg in ("--config", str(CONFIGS / "ssl" / name))),
        "--data.store", store,
        "--data.train_split", train_split(store, spec["prefix"]),
        "--data.val_split", "null",
        "--data.test_split", spec["test"],
        "--data.num_workers", "0",
        "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip


def pretrain(store: str, dataset: str, root: Path, target: str, epochs: int) -> Path:
    if not list(root.glob("version_*/checkpoints/last.ckpt")):
        skelact("fit", *data_args(store, dataset, "skeletonmae.yaml", "skeletonmae_nw_ucla_cpu.yaml"),
                "--model.target", target, "--trainer.max_epochs", str(epochs),
                "--trainer.default_root_dir", str(root))  # fmt: skip
    return last_ckpt(root)


def epoch_metrics(root: Path) -> list[dict[str, float]]:
    """Per-epoch rows of the last run's metrics.csv that hold the epoch-level training metrics."""
    found = sorted(root.glob("version_*/metrics.csv"), key=lambda p: int(p.parts[-2][8:]))
    rows = list(csv.DictReader(found[-1].open())) if found else []
    return [
        {"epoch": int(r["epoch"]), "rce": float(r["train/rce"]), "spread": float(r["train/embedding_spread"])}
        for r in rows
        if r.get("train/rce")
    ]


def tested(root: Path) -> dict[str, float | None]:
    metrics = latest_test_metrics(root)
    if metrics is None:
        return {}
    return {"top1": metrics.get("top1"), "mean_class_accuracy": metrics.get("mean_class_accuracy")}


def finetune(store: str, dataset: str, root: Path, pretrained: Path, init: str, epochs: int) -> dict:
    if not tested(root):
        args = [
            *data_args(store, dataset, "strl.yaml", "strl_nw_ucla_cpu.yaml"),
            "--model.pretrained", str(pretrained),
            "--model.encoder_init", init,
            "--model.warmup_epochs", str(max(1, round(epochs * 5 / 110))),
            "--model.milestones", f"[{round(epochs * 90 / 110)}, {round(epochs * 100 / 110)}]",
            "--trainer.max_epochs", str(epochs),
            "--trainer.default_root_dir", str(root),
        ]  # fmt: skip
        skelact("fit", *args)
        skelact("test", *args, "--ckpt_path", str(last_ckpt(root)))
    return tested(root)


def linear(store: str, dataset: str, root: Path, pretrained: Path, epochs: int) -> dict:
    if not tested(root):
        args = [
            *data_args(store, dataset),
            "--data.sampling", "uniform",
            "--data.clip_len", "32",
            "--data.repeat", "1",
            "--model.pretrained", str(pretrained),
            "--model.lr", "0.1",
            "--model.eval_every", "0",
            "--model.milestones", f"[{max(1, int(epochs * 0.75))}]",
            "--trainer.max_epochs", str(epochs),
            "--trainer.default_root_dir", str(root),
        ]  # fmt: skip
        skelact("fit", "--method", "linear", *args)
        skelact("test", "--method", "linear", *args, "--ckpt_path", str(last_ckpt(root)))
    return tested(root)


def knn(store: str, dataset: str, root: Path, pretrained: Path) -> float:
    table = root / "knn.json"
    if not table.is_file():
        spec = DATASETS[dataset]
        skelact("knn", "--ckpt", str(pretrained), "--store", store,
                "--gallery-split", train_split(store, spec["prefix"]), "--query-split", spec["test"],
                "--out", str(root))  # fmt: skip
    return json.loads(table.read_text())["rows"][0]["top1"]


def loss_figure(curves: dict[str, list[dict[str, float]]], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for target, rows in curves.items():
        ax.plot([r["epoch"] + 1 for r in rows], [r["rce"] for r in rows], marker="o", ms=3, label=target)
    ax.set_xlabel("epoch")
    ax.set_ylabel("RCE (train, epoch mean)")
    ax.set_title("SkeletonMAE pre-training loss")
    ax.legend(title="target")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--dataset", choices=list(DATASETS), default="nw_ucla")
    parser.add_argument("--targets", nargs="+", default=["embedding", "literal", "coordinates"],
                        choices=["embedding", "literal", "coordinates"])  # fmt: skip
    parser.add_argument("--pretrain-epochs", type=int, default=20)
    parser.add_argument("--finetune-epochs", type=int, default=15)
    parser.add_argument("--probe-epochs", type=int, default=15)
    budget = parser.parse_args()
    out, started = Path(budget.out) / budget.dataset, time.time()
    store, dataset = budget.store, budget.dataset

    checkpoints, pretraining = {}, {}
    for target in budget.targets:
        root = out / f"mae_{target}"
        checkpoints[target] = pretrain(store, dataset, root, target, budget.pretrain_epochs)
        curve = epoch_metrics(root)
        pretraining[target] = {
            "checkpoint": str(checkpoints[target]),
            "rce_per_epoch": [round(r["rce"], 5) for r in curve],
            "embedding_spread_last": round(curve[-1]["spread"], 5) if curve else None,
        }
    figure = loss_figure({t: epoch_metrics(out / f"mae_{t}") for t in budget.targets}, out / "loss_curve.png")

    main_ckpt, epochs = checkpoints[budget.targets[0]], budget.finetune_epochs
    rows = [
        {"row": "STRL, random encoder (fine-tune)",
         **finetune(store, dataset, out / "strl_random", main_ckpt, "random", epochs)},
        {"row": f"STRL, SkeletonMAE encoder ({budget.targets[0]} target, fine-tune)",
         **finetune(store, dataset, out / "strl_pretrained", main_ckpt, "pretrained", epochs)},
        {"row": "SkeletonMAE encoder, linear",
         **linear(store, dataset, out / "linear", main_ckpt, budget.probe_epochs)},
        {"row": "SkeletonMAE encoder, 1-NN", "top1": knn(store, dataset, out / "knn", main_ckpt)},
    ]  # fmt: skip
    print(json.dumps({
        "dataset": dataset,
        "budget": {k: getattr(budget, k) for k in ("pretrain_epochs", "finetune_epochs", "probe_epochs")},
        "pretraining": pretraining,
        "loss_curve": figure,
        "rows": rows,
        "minutes": round((time.time() - started) / 60, 1),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
