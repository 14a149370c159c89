"""Self-supervised protocols on NW-UCLA at one CPU-sized budget: prints a JSON table of linear / k-NN top-1
for a random-init encoder, MoCo and MoCo + HaLP (resumed from the MoCo checkpoint), for the BiGRU and one GCN
encoder, and semi-supervised 10 % for MoCo vs HaLP vs training from scratch (docs/results.md).

    python benchmarks/ssl_nw_ucla.py --store runs/nw_ucla/store --out runs/ssl_ucla [--encoders bigru stgcn]

Every command it runs is printed first; runs whose outputs exist are not repeated (re-run to continue).
Pre-training uses the cross-view training views without labels (`train_full`); probes train on `train_full`
and test on the test view. The random-init row is a MoCo run of one epoch at lr 0: the weights stay as
initialised, BatchNorm statistics are those of the data.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from cli_runs import last_ckpt, latest_test_metrics, skelact

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
ENCODERS = {
    "bigru": [],  # configs/ssl/nw_ucla_cpu.yaml's BiGRU (hidden size 128)
    "stgcn": ["--model.model", "stgcn", "--model.model_args", '{"base_channels": 16}'],
}


def pretrain(store: str, out: Path, encoder: str, budget: argparse.Namespace) -> dict[str, Path]:
    base = [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "nw_ucla.yaml"),
        "--config", str(CONFIGS / "ssl" / "moco.yaml"),
        "--config", str(CONFIGS / "ssl" / "nw_ucla_cpu.yaml"),
        *ENCODERS[encoder],
        "--data.store", store,
        "--data.num_workers", "0",
        "--trainer.enable_progress_bar", "false",
        "--model.milestones", f"[{budget.milestone}]",
    ]  # fmt: skip
    roots = {name: out / encoder / name for name in ("random", "moco", "moco_continued", "halp")}
    if not list(roots["random"].glob("version_*/checkpoints/last.ckpt")):
        skelact("fit", *base, "--model.lr", "0", "--trainer.max_epochs", "1",
                "--trainer.default_root_dir", str(roots["random"]))  # fmt: skip
    if not list(roots["moco"].glob("version_*/checkpoints/last.ckpt")):
        skelact("fit", *base, "--trainer.max_epochs", str(budget.moco_epochs),
                "--trainer.default_root_dir", str(roots["moco"]))  # fmt: skip
    if not list(roots["moco_continued"].glob("version_*/checkpoints/last.ckpt")):
        # MoCo alone for HaLP's extra epochs, so HaLP is also compared at an equal epoch count: a copy of the
        # MoCo run resumed in place (resuming the MoCo run itself would overwrite its last checkpoint).
        copy = roots["moco_continued"] / "version_0"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(last_ckpt(roots["moco"]).parents[1], copy)
        skelact("fit", *base, "--trainer.max_epochs", str(budget.moco_epochs + budget.halp_epochs),
                "--ckpt_path", str(copy),
                "--trainer.default_root_dir", str(roots["moco_continued"]))  # fmt: skip
    if not list(roots["halp"].glob("version_*/checkpoints/last.ckpt")):
        skelact("fit", *base, "--config", str(CONFIGS / "ssl" / "halp.yaml"),
                "--config", str(CONFIGS / "ssl" / "nw_ucla_cpu_halp.yaml"),
                "--trainer.max_epochs", str(budget.moco_epochs + budget.halp_epochs),
                "--ckpt_path", str(last_ckpt(roots["moco"])),
                "--trainer.default_root_dir", str(roots["halp"]))  # fmt: skip
    return {name: last_ckpt(root) for name, root in roots.items()}


def probe_args(store: str, pretrained: Path, root: Path, epochs: int) -> list[str]:
    return [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "nw_ucla.yaml"),
        "--data.store", store,
        "--data.train_split", "train_full",
        "--data.val_split", "null",
        "--data.sampling", "crop_resize",
        "--data.clip_len", "32",
        "--data.repeat", "1",
        "--data.num_workers", "0",
        "--model.pretrained", str(pretrained),
        "--model.milestones", f"[{max(1, int(epochs * 0.75))}]",
        "--trainer.max_epochs", str(epochs),
        "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(root),
    ]  # fmt: skip


def tested_top1(root: Path) -> dict[str, float | None]:
    metrics = latest_test_metrics(root)
    if metrics is None:
        return {}
    return {"top1": metrics["top1"], "best_periodic": (metrics.get("best_periodic_test") or {}).get("top1")}


def probe(method: str, store: str, pretrained: Path, root: Path, epochs: int, lr: float) -> dict:
    if not tested_top1(root):
        args = [*probe_args(store, pretrained, root, epochs), "--model.lr", str(lr)]
        skelact("fit", "--method", method, *args)
        skelact("test", "--method", method, *args, "--ckpt_path", str(last_ckpt(root)))
    return tested_top1(root)


def knn(store: str, pretrained: Path, root: Path) -> float:
    table = root / "knn.json"
    if not table.is_file():
        skelact("knn", "--ckpt", str(pretrained), "--store", store, "--gallery-split", "train_full",
                "--query-split", "test", "--out", str(root))  # fmt: skip
    return json.loads(table.read_text())["rows"][0]["top1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--encoders", nargs="+", default=list(ENCODERS), choices=list(ENCODERS))
    parser.add_argument("--moco-epochs", type=int, default=100)
    parser.add_argument("--halp-epochs", type=int, default=20)
    parser.add_argument("--milestone", type=int, default=110, help="pre-training epoch of the lr step x0.1")
    parser.add_argument("--probe-epochs", type=int, default=15)
    parser.add_argument("--semi-epochs", type=int, default=30)
    budget = parser.parse_args()
    out, started = Path(budget.out), time.time()
    rows, semi = [], []
    for encoder in budget.encoders:
        checkpoints = pretrain(budget.store, out, encoder, budget)
        for name, ckpt in checkpoints.items():
            linear = probe(
                "linear", budget.store, ckpt, out / encoder / f"linear_{name}", budget.probe_epochs, 0.1
            )
            rows.append({
                "encoder": encoder, "pretraining": name, "linear_top1_last": linear.get("top1"),
                "linear_top1_best_every_5": linear.get("best_periodic"),
                "knn_top1": knn(budget.store, ckpt, out / encoder / f"knn_{name}"),
            })  # fmt: skip
        if encoder == budget.encoders[0]:
            for name in ("moco", "moco_continued", "halp", "random"):
                root = out / encoder / f"semi10_{name}"
                args = [*probe_args(budget.store, checkpoints[name], root, budget.semi_epochs),
                        "--data.train_fraction", "0.1", "--data.fraction_seed", "0",
                        "--model.lr", "0.01"]  # fmt: skip
                if not tested_top1(root):
                    skelact("fit", "--method", "finetune", *args)
                    skelact("test", "--method", "finetune", *args, "--ckpt_path", str(last_ckpt(root)))
                label = "scratch (random init)" if name == "random" else name
                semi.append({"encoder": encoder, "init": label, "top1_10pct": tested_top1(root).get("top1")})
    facts = ("moco_epochs", "halp_epochs", "milestone", "probe_epochs", "semi_epochs")
    budget_facts = {k: getattr(budget, k) for k in facts}
    print(json.dumps({"budget": budget_facts, "rows": rows, "semi_10pct": semi,
                      "minutes": round((time.time() - started) / 60, 1)}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
