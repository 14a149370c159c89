"""`make demo`'s job, shrunk: store, fit, test and report land in the printed run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skelact.cli.demo import main


def test_demo_writes_store_checkpoint_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    code = main(["--out", str(out), "--per-class", "3", "--subjects", "6",
                 "--model.model_args.base_channels", "8", "--trainer.max_epochs", "1",
                 "--trainer.enable_progress_bar", "false"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.index("{") : printed.rindex("}") + 1])
    run_dir = Path(summary["run_dir"])
    assert run_dir.parent == out / "runs" and f"everything is in {run_dir}" in printed
    assert Path(summary["best_checkpoint"]).is_file()
    report = Path(summary["report_dir"])
    for name in ("metrics.json", "confusion_matrix.png", "per_class_accuracy.png", "scores.npz"):
        assert (report / name).is_file(), name
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["top1"] == pytest.approx(summary["test_top1"])
    assert (out / "store" / "manifest.json").is_file()
    config = (run_dir / "config.yaml").read_text()
    assert "max_persons: 1" in config and "base_channels: 8" in config  # the demo recipe plus overrides
    assert "clip_len: 16" in config  # the recipe's clip length wins over the data config's 32 (issue 18)
