"""Issue 16's results matrix at one CPU-sized budget, printed as JSON (docs/methods/mmixer.md):

every row trains for the same epochs with the small-data recipe (`configs/recipes/small.yaml`), one seed,
then `skelact test` on the test split (last epoch); late fusion is `skelact ensemble` of two single-encoder
rows' test scores (equal weights, probabilities). Each row also gives the training throughput it reached
(training clips per second of training-epoch wall time, median over epochs).

- ``--dataset nw_ucla`` (cross-view): joint alone, heatmap alone, their late fusion, their feature
  concatenation, M-Mixer (WACV) and M-Mixer + CFEM on joint + heatmap; and the same four fused rows on
  joint + bone.
- ``--dataset jhmdb_rgb`` (split 1, RGB crops + MediaPipe poses, `skelact prepare jhmdb-rgb`): pose alone, RGB
  alone, their late fusion, M-Mixer + CFEM on RGB + pose, and M-Mixer + CFEM on RGB + pose + heatmaps.

- ``--suite deformable3d`` (issue 17), NW-UCLA: the 3D deformable transformer on heatmap volume + pose
  tokens (`configs/model/deformable3d.yaml` after the small recipe), pose tokens only, volume only, the late
  fusion of those two, and CTR-GCN (joint, width 64) at the same budget. J-HMDB (``--dataset jhmdb_rgb``):
  the transformer on RGB volume + pose tokens (`deformable3d_rgb.yaml`, the paper's setting), its pose-token
  ablation, and the late fusion of the RGB and pose models of the mmixer suite (same ``--out``).

J-HMDB trains on all 660 training clips of split 1 (no validation split: every row is read at its last
epoch) with 16-frame clips and ``--rgb-size`` pixel person crops (default 64: the CPU budget; the data
config's 112 costs 4x the time per clip, docs/results.md).

    python benchmarks/mmixer_results.py --store runs/nw_ucla/store --out runs/mmixer_results
    python benchmarks/mmixer_results.py --suite deformable3d --store runs/nw_ucla/store \
        --out runs/deformable3d_results
    python benchmarks/mmixer_results.py --dataset jhmdb_rgb --store runs/jhmdb_rgb/store \
        --out runs/mmixer_results
    python benchmarks/mmixer_results.py --suite deformable3d --dataset jhmdb_rgb \
        --store runs/jhmdb_rgb/store --out runs/mmixer_results

Every command it runs is printed first; runs whose test metrics exist are not repeated (re-run to
continue). ``--rows`` picks a subset by name. Run long jobs with ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cli_runs import last_ckpt, latest_test_metrics, skelact

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"

# Rows: name -> (model config(s), composed in order after the recipe; extra overrides). Datasets pick their
# rows below.
NW_UCLA_ROWS: dict[str, tuple[str, list[str]]] = {
    "joint": ("mmixer_single_j", []),
    "bone": ("mmixer_single_b", []),
    "heatmap": ("mmixer_single_h", []),
    "concat_jh": ("mmixer_concat_jh", []),
    "mmixer_jh": ("mmixer_jh", []),
    "mmixer_jh_cfem": ("mmixer_jh", ["--model.model_args.extractor", "cfem"]),
    "concat_jb": ("mmixer_concat_jb", []),
    "mmixer_jb": ("mmixer_jb", []),
    "mmixer_jb_cfem": ("mmixer_jb", ["--model.model_args.extractor", "cfem"]),
}
NW_UCLA_FUSIONS = {"late_jh": ("joint", "heatmap"), "late_jb": ("joint", "bone")}

_2D = ["--model.model_args.num_coords", "2"]
JHMDB_RGB_ROWS: dict[str, tuple[str, list[str]]] = {
    "pose": ("mmixer_single_j", _2D),
    "rgb": ("mmixer_single_rgb", []),
    "mmixer_rgb_pose_cfem": ("mmixer_j_rgb", _2D),
    "mmixer_rgb_pose_heatmap_cfem": ("mmixer_jh_rgb", []),
}
JHMDB_RGB_FUSIONS = {"late_rgb_pose": ("pose", "rgb")}

# Issue 17 (`--suite deformable3d`): the transformer on heatmap volume + pose tokens, its two single-stream
# ablations and their late fusion, and CTR-GCN (joint, CTR-GCN's own width) at the same budget.
DEFORMABLE3D_ROWS: dict[str, tuple[str, list[str]]] = {
    "deformable3d": ("deformable3d", []),
    "pose_tokens_only": ("deformable3d", ["--model.model_args.use_volume", "false"]),
    "volume_only": ("deformable3d", ["--model.model_args.use_pose", "false"]),
    "ctrgcn_joint": ("ctrgcn", ["--model.model_args.base_channels", "64"]),
}
DEFORMABLE3D_FUSIONS = {"late_pose_volume": ("pose_tokens_only", "volume_only")}

# Issue 17 on J-HMDB: RGB appearance volume + estimated pose tokens against the late fusion of the RGB and
# pose models of the mmixer suite (its `rgb` and `pose` rows, trained under the same --out).
_RGB_TRANSFORMER = ("deformable3d", "deformable3d_rgb")
DEFORMABLE3D_JHMDB_ROWS: dict[str, tuple[str | tuple[str, ...], list[str]]] = {
    "deformable3d_rgb": (_RGB_TRANSFORMER, []),
    "deformable3d_rgb_pose_tokens_only": (_RGB_TRANSFORMER, ["--model.model_args.use_volume", "false"]),
}
DEFORMABLE3D_JHMDB_FUSIONS = {"late_rgb_pose": ("pose", "rgb")}

DATASETS = {
    "nw_ucla": {
        "data": "nw_ucla.yaml",
        "splits": ("train", "val", "test"),
        "extra": [],
        "rows": NW_UCLA_ROWS,
        "fusions": NW_UCLA_FUSIONS,
    },
    # 16 frames (the data config's; the small recipe sets 32): RGB decoding and the ResNet cost per frame.
    "jhmdb_rgb": {
        "data": "jhmdb_rgb.yaml",
        "splits": ("split1_train_full", "null", "split1_test"),
        "extra": ["--data.clip_len", "16"],
        "rows": JHMDB_RGB_ROWS,
        "fusions": JHMDB_RGB_FUSIONS,
    },
}


def rgb_budget(dataset: str, configs: tuple[str, ...], rgb_size: int) -> list[str]:
    """The person-crop size of a dataset with RGB clips, and the transformer's RGB volume set to match."""
    if dataset != "jhmdb_rgb":
        return []
    crops = json.dumps({"rgb": {"size": rgb_size, "padding": 0.25}})
    volume = ["--model.model_args.size", str(rgb_size)] if "deformable3d_rgb" in configs else []
    return ["--data.modality_options", crops, *volume]


def run_args(
    store: str,
    dataset: str,
    config: str | tuple[str, ...],
    overrides: list[str],
    root: Path,
    epochs: int,
    rgb_size: int = 64,
) -> list[str]:
    spec = DATASETS[dataset]
    train, val, test = spec["splits"]
    configs = (config,) if isinstance(config, str) else config
    return [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / spec["data"]),
        "--config", str(CONFIGS / "recipes" / "small.yaml"),
        *[arg for name in configs for arg in ("--config", str(CONFIGS / "model" / f"{name}.yaml"))],
        *overrides,
        *spec["extra"],
        *rgb_budget(dataset, configs, rgb_size),
        "--data.store", store,
        "--data.train_split", train,
        "--data.val_split", val,
        "--data.test_split", test,
        "--data.num_workers", "0",
        "--trainer.max_epochs", str(epochs),
        "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(root),
    ]  # fmt: skip


def train_rate(root: Path, train_clips: int) -> float | None:
    """Training clips per second: the median training-epoch wall time of the run's metrics.csv."""
    found = sorted(root.glob("version_*/metrics.csv"), key=lambda p: int(p.parts[-2][8:]))
    if not found:
        return None
    seconds = [
        float(r["time/train_epoch_s"]) for r in csv.DictReader(found[0].open()) if r.get("time/train_epoch_s")
    ]
    return round(train_clips / statistics.median(seconds), 1) if seconds else None


def test_scores(root: Path) -> Path:
    found = sorted(root.glob("version_*/test/scores.npz"), key=lambda p: int(p.parts[-3][8:]))
    if not found:
        raise SystemExit(f"no test/scores.npz under {root}")
    return found[-1]


def train_row(
    store: str, dataset: str, name: str, root: Path, epochs: int, train_clips: int, rgb_size: int
) -> dict:
    config, overrides = DATASETS[dataset]["rows"][name]
    if latest_test_metrics(root) is None:
        args = run_args(store, dataset, config, overrides, root, epochs, rgb_size)
        skelact("fit", *args)
        skelact("test", *args, "--ckpt_path", str(last_ckpt(root)))
    metrics = latest_test_metrics(root) or {}
    return {
        "row": name,
        "config": config if isinstance(config, str) else " + ".join(config),
        "overrides": " ".join(overrides),
        "top1": metrics.get("top1"),
        "mean_class_accuracy": metrics.get("mean_class_accuracy"),
        "train_clips_per_s": train_rate(root, train_clips),
    }


def late_fusion(name: str, first: Path, second: Path, out: Path) -> dict:
    table = out / f"{name}.json"
    if not table.is_file():
        files = [str(test_scores(first)), str(test_scores(second))]
        print("+ skelact ensemble " + " ".join(files) + " --json", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "skelact.cli.main", "ensemble", *files, "--json"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        table.write_text(done.stdout)
    return {"row": name, "fused": [first.name, second.name], **json.loads(table.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--dataset", choices=list(DATASETS), default="nw_ucla")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rows", nargs="+", help="row names to run (default: all of the dataset's)")
    parser.add_argument(
        "--suite", choices=["mmixer", "deformable3d"], default="mmixer", help="issue 16's rows or issue 17's"
    )
    parser.add_argument("--rgb-size", type=int, default=64, help="person-crop pixels of RGB rows (J-HMDB)")
    budget = parser.parse_args()
    spec, out, started = dict(DATASETS[budget.dataset]), Path(budget.out) / budget.dataset, time.time()
    if budget.suite == "deformable3d":
        if budget.dataset == "nw_ucla":
            spec.update(rows=DEFORMABLE3D_ROWS, fusions=DEFORMABLE3D_FUSIONS)
        else:
            spec.update(rows=DEFORMABLE3D_JHMDB_ROWS, fusions=DEFORMABLE3D_JHMDB_FUSIONS)
        DATASETS[budget.dataset] = spec
    import numpy as np

    train_clips = len(np.load(Path(budget.store) / "splits.npz")[spec["splits"][0]])
    names = budget.rows or list(spec["rows"])
    unknown = sorted(set(names) - set(spec["rows"]) - set(spec["fusions"]))
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; {budget.dataset} has {[*spec['rows'], *spec['fusions']]}")
    rows = [
        train_row(budget.store, budget.dataset, name, out / name, budget.epochs, train_clips, budget.rgb_size)
        for name in names
        if name in spec["rows"]
    ]
    for name, (first, second) in spec["fusions"].items():
        if (budget.rows is None or name in names) and all((out / s).is_dir() for s in (first, second)):
            rows.append(late_fusion(name, out / first, out / second, out))
    print(json.dumps({
        "dataset": budget.dataset,
        "epochs": budget.epochs,
        "rgb_size": budget.rgb_size if budget.dataset == "jhmdb_rgb" else None,
        "train_clips": train_clips,
        "rows": rows,
        "minutes": round((time.time() - started) / 60, 1),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
