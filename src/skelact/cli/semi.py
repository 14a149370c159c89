"""`skelact semi --out DIR [--fractions 1,5,10,20 --repeats 5 --seed 0] FIT ARGUMENTS...`

The semi-supervised protocol of CMD/HaLP (specs/halp.md §6.1): for each label fraction, `repeats` runs that
each draw their own random subset of the labelled training split (seeded: run r of every fraction uses seed
`seed + r`; like CMD the subset is not class-balanced), train with the given fit arguments (typically
`--method finetune --model.pretrained CKPT`, or the supervised method for the from-scratch baseline), test
the last epoch's weights, and write the per-run and mean ± std tables to DIR/semi.{json,md}.

A run whose test metrics already exist is not repeated, so an interrupted protocol continues where it stopped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from skelact.cli.main import QuietArgumentParser, positive_int
from skelact.errors import ConfigError

# Set by the protocol for each run; a user giving them would silently be overridden.
RESERVED = (
    "--trainer.default_root_dir",
    "--data.train_fraction",
    "--data.fraction_seed",
    "--seed_everything",
)


def parse_fractions(text: str) -> list[float]:
    """'1,5,10,20' (percent) -> [0.01, 0.05, 0.1, 0.2]; each must lie in (0, 100]."""
    try:
        percents = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--fractions takes comma-separated percentages, got {text!r}") from None
    if not percents or any(not 0 < p <= 100 for p in percents):
        raise ConfigError(f"--fractions must be percentages in (0, 100], got {text!r}")
    return [p / 100 for p in percents]


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and sample standard deviation (ddof 1; 0 for a single run) of top-1 per label fraction."""
    summary = []
    for percent in sorted({row["labels_percent"] for row in rows}):
        values = [row["top1"] for row in rows if row["labels_percent"] == percent]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        summary.append({"labels_percent": percent, "runs": len(values), "mean_top1": mean, "std_top1": std})
    return summary


def _version(path: Path) -> int:
    """N of the version_N folder two levels above `path` (so version_10 sorts after version_9)."""
    suffix = path.parent.parent.name.removeprefix("version_")
    return int(suffix) if suffix.isdigit() else -1


def _test_metrics(run_dir: Path) -> Path | None:
    """The metrics.json of the run's test (in the test's own version_N folder), if it has been tested."""
    found = sorted(run_dir.glob("version_*/test/metrics.json"), key=_version)
    return found[-1] if found else None


def _last_checkpoint(run_dir: Path) -> Path:
    found = sorted(run_dir.glob("version_*/checkpoints/last.ckpt"), key=_version)
    if not found:
        raise ConfigError(f"the fit in {run_dir} wrote no last.ckpt")
    return found[-1]


def run_semi(args: list[str]) -> int:
    parser = QuietArgumentParser(
        prog="skelact semi", description="Semi-supervised protocol: repeated fits on label fractions."
    )
    parser.add_argument("--out", required=True, help="protocol folder (one run folder per fraction and seed)")
    parser.add_argument("--fractions", default="1,5,10,20", help="label percentages (default 1,5,10,20)")
    parser.add_argument("--repeats", type=positive_int, default=5, help="runs per fraction (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of run 0; run r uses seed + r")
    options, fit_args = parser.parse_known_args(args)
    fractions = parse_fractions(options.fractions)
    if clash := [a for a in fit_args if a.split("=", 1)[0] in RESERVED]:
        raise ConfigError(f"skelact semi sets {clash[0].split('=', 1)[0]} itself; remove it")

    from skelact.cli.lightning import run_lightning
    from skelact.evaluation.protocol_table import write_protocol_table

    out = Path(options.out)
    rows = []
    for fraction in fractions:
        for repeat in range(options.repeats):
            seed = options.seed + repeat
            run_dir = out / f"labels_{fraction * 100:g}pct" / f"seed_{seed}"
            if (metrics_file := _test_metrics(run_dir)) is None:
                common = [
                    *fit_args,
                    "--trainer.default_root_dir", str(run_dir),
                    "--data.train_fraction", str(fraction),
                    "--data.fraction_seed", str(seed),
                    "--seed_everything", str(seed),
                ]  # fmt: skip
                run_lightning(["fit", *common])
                run_lightning(["test", *common, "--ckpt_path", str(_last_checkpoint(run_dir))])
                metrics_file = _test_metrics(run_dir)
                if metrics_file is None:
                    raise ConfigError(f"the test of {run_dir} wrote no metrics.json")
            metrics = json.loads(metrics_file.read_text())
            rows.append({"labels_percent": fraction * 100, "seed": seed, "top1": metrics["top1"]})
    summary = summarise(rows)
    facts = {"fit_arguments": " ".join(fit_args), "selection": "last epoch", "subset": "random, not balanced"}
    write_protocol_table(
        out, "semi_runs", rows, ["labels_percent", "seed", "top1"], title="Runs", facts=facts
    )
    json_path, _ = write_protocol_table(
        out,
        "semi",
        summary,
        ["labels_percent", "runs", "mean_top1", "std_top1"],
        title="Semi-supervised protocol",
        facts=facts,
    )
    for row in summary:
        print(
            f"{row['labels_percent']:g} % labels: top-1 {row['mean_top1']:.4f} ± {row['std_top1']:.4f} "
            f"over {row['runs']} run(s)"
        )
    print(f"wrote {json_path}")
    return 0
