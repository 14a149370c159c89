"""`skelact semi`: repeated fits on seeded label fractions, per-run and mean ± std tables, and a re-run that
continues instead of repeating finished runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skelact.cli.main import main
from skelact.cli.semi import parse_fractions, summarise
from skelact.errors import ConfigError


def test_two_seeds_of_one_fraction_give_a_table_and_a_rerun_repeats_nothing(
    synthetic_store_3d: Path, tiny_training: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "semi"
    fit = [*tiny_training, "--trainer.max_epochs", "1", "--data.store", str(synthetic_store_3d)]
    args = ["semi", "--out", str(out), "--fractions", "50", "--repeats", "2", "--seed", "7", *fit]
    assert main(args) == 0
    runs = json.loads((out / "semi_runs.json").read_text())["rows"]
    assert [(r["labels_percent"], r["seed"]) for r in runs] == [(50.0, 7), (50.0, 8)]
    summary = json.loads((out / "semi.json").read_text())["rows"]
    assert summary == summarise(runs) and summary[0]["runs"] == 2
    assert "± " in capsys.readouterr().out and "| mean_top1 |" in (out / "semi.md").read_text()
    # Each run trained on its own half of the training split.
    configs = [(out / "labels_50pct" / f"seed_{s}" / "version_0" / "config.yaml").read_text() for s in (7, 8)]
    assert all("train_fraction: 0.5" in c for c in configs) and "fraction_seed: 8" in configs[1]

    finished = sorted(p.stat().st_mtime_ns for p in out.rglob("last.ckpt"))
    assert main(args) == 0  # continues: every run has its metrics, nothing is trained again
    assert sorted(p.stat().st_mtime_ns for p in out.rglob("last.ckpt")) == finished


def test_fractions_and_reserved_options_are_checked(tmp_path: Path) -> None:
    assert parse_fractions("1, 5,10") == [0.01, 0.05, 0.1]
    with pytest.raises(ConfigError, match="percentages"):
        parse_fractions("0,5")
    assert main(["semi", "--out", str(tmp_path), "--data.train_fraction", "0.3"]) == 2
    assert summarise([{"labels_percent": 1.0, "top1": 0.5}])[0]["std_top1"] == 0.0
