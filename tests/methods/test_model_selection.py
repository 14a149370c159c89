"""Model selection: best on val by default, the last epoch on request, test-best only when asked by name; the
rule that produced the tested weights is written into metrics.json and the score file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

from skelact.cli.main import main
from skelact.data.datamodule import SkeletonDataModule
from skelact.errors import ConfigError
from skelact.evaluation.scores import ScoreFile
from skelact.evaluation.selection import SELECTION_KEY, resolve_checkpoint, selection_result
from skelact.methods.optimistic_test import OptimisticTestTop1, mean_over_unique
from skelact.methods.supervised import SupervisedClassifier
from skelact.methods.test_report import find_test_report

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# conftest.py's TINY_TRAINING (conftest is not importable under --import-mode=importlib).
TINY_TRAINING = [
    "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
    "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
    "--config", str(CONFIGS / "model" / "stgcn.yaml"),
    "--model.model_args", '{"base_channels": 8}',
    "--data.clip_len", "16",
    "--data.batch_size", "16",
    "--trainer.max_epochs", "2",
    "--trainer.enable_progress_bar", "false",
]  # fmt: skip


def common(store: Path, root: Path) -> list[str]:
    return [*TINY_TRAINING, "--data.store", str(store), "--trainer.default_root_dir", str(root)]


def newest_run(root: Path) -> Path:
    return max(root.glob("version_*"), key=lambda p: int(p.name.split("_")[1]))


def logged(run_dir: Path, key: str) -> list[float]:
    """Per-epoch values of one metric from the run's metrics.csv."""
    with open(run_dir / "metrics.csv") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get(key)]
    return [float(row[key]) for row in sorted(rows, key=lambda r: int(r["epoch"]))]


def record(ckpt: Path) -> dict:
    return torch.load(ckpt, map_location="cpu", weights_only=True)[SELECTION_KEY]


def test_results(store: Path, root: Path, *extra: str) -> tuple[dict, ScoreFile]:
    """`skelact test` through the CLI; returns metrics.json and the score file it wrote."""
    assert main(["test", *common(store, root), *extra]) == 0
    test_dir = newest_run(root) / "test"
    return json.loads((test_dir / "metrics.json").read_text()), ScoreFile.read(test_dir / "scores.npz")


test_results.__test__ = False  # a helper, not a test


def test_default_keeps_the_best_validation_epoch(trained_run: dict[str, Path]) -> None:
    run_dir, store, root = trained_run["run_dir"], trained_run["store"], trained_run["root"]
    val_top1 = logged(run_dir, "val/top1")
    best_epoch = int(np.argmax(val_top1))  # the first maximum, as ModelCheckpoint keeps it
    checkpoints = run_dir / "checkpoints"
    assert sorted(p.name for p in checkpoints.glob("*best-*.ckpt")) == [f"best-{best_epoch:03d}.ckpt"]
    assert record(checkpoints / f"best-{best_epoch:03d}.ckpt")["role"] == "selected"
    # last.ckpt is the last epoch even when it did not improve (Lightning 2.6 alone keeps the best there).
    assert record(checkpoints / "last.ckpt") | {"monitor_value": None} == {
        "select_on": "val",
        "role": "last",
        "epoch": len(val_top1) - 1,
        "global_step": record(checkpoints / "last.ckpt")["global_step"],
        "monitor": "val/top1",
        "monitor_value": None,
    }

    metrics, scores = test_results(store, root, "--ckpt_path", str(run_dir))
    assert metrics["selection"] == "val_best" and metrics["selected_epoch"] == best_epoch
    assert metrics["checkpoint"] == str(checkpoints / f"best-{best_epoch:03d}.ckpt")
    assert metrics["selection_detail"]["monitor_value"] == pytest.approx(val_top1[best_epoch])
    assert "selection_warning" not in metrics
    assert scores.meta["selection"] == "val_best" and scores.meta["selected_epoch"] == best_epoch
    assert (
        scores.meta["split"] == "test" and scores.meta["modality"] == "j" and scores.meta["model"] == "stgcn"
    )

    metrics, scores = test_results(store, root, "--ckpt_path", str(run_dir), "--report", "last")
    assert metrics["selection"] == "last" and metrics["selected_epoch"] == len(val_top1) - 1
    assert metrics["checkpoint"] == str(checkpoints / "last.ckpt") and scores.meta["selection"] == "last"

    # The fixture's own test named last.ckpt explicitly: recorded as the last epoch too.
    assert json.loads((trained_run["test_dir"] / "metrics.json").read_text())["selection"] == "last"


def test_select_on_last_keeps_only_the_last_epoch(synthetic_store_3d: Path, tmp_path: Path) -> None:
    assert main(["fit", *common(synthetic_store_3d, tmp_path), "--model.select_on", "last"]) == 0
    run_dir = newest_run(tmp_path)
    checkpoints = run_dir / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch-001.ckpt", "last.ckpt"]
    assert (checkpoints / "last.ckpt").resolve() == (checkpoints / "epoch-001.ckpt").resolve()  # stored once
    metrics, scores = test_results(synthetic_store_3d, tmp_path, "--ckpt_path", str(run_dir))
    assert metrics["selection"] == "last" and metrics["selected_epoch"] == 1
    assert metrics["selection_detail"]["select_on"] == "last" and scores.meta["selection"] == "last"


def test_test_optimistic_keeps_the_best_test_epoch_and_says_so(
    synthetic_store_3d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    per_epoch = [0.2, 0.5, 0.3]  # scripted test accuracy, so the best epoch is neither the first nor the last

    def scripted(self: OptimisticTestTop1, trainer: L.Trainer, module: L.LightningModule) -> torch.Tensor:
        return torch.tensor(per_epoch[module.current_epoch])

    monkeypatch.setattr(OptimisticTestTop1, "top1", scripted)
    args = [*common(synthetic_store_3d, tmp_path), "--model.select_on", "test_optimistic"]
    with pytest.warns(UserWarning, match="optimistic"):
        assert main(["fit", *args, "--trainer.max_epochs", "3"]) == 0
    run_dir = newest_run(tmp_path)
    assert logged(run_dir, "test_optimistic/top1") == pytest.approx(per_epoch)
    checkpoints = run_dir / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["last.ckpt", "test-best-001.ckpt"]
    assert record(checkpoints / "last.ckpt")["epoch"] == 2

    monkeypatch.undo()
    metrics, scores = test_results(synthetic_store_3d, tmp_path, "--ckpt_path", str(run_dir))
    assert metrics["selection"] == "test_best" and metrics["selected_epoch"] == 1
    assert metrics["selection_detail"]["monitor"] == "test_optimistic/top1"
    assert metrics["selection_detail"]["monitor_value"] == pytest.approx(0.5)
    assert "optimistic" in metrics["selection_warning"] and scores.meta["selection"] == "test_best"
    metrics, _ = test_results(synthetic_store_3d, tmp_path, "--ckpt_path", str(run_dir), "--report", "last")
    assert metrics["selection"] == "last" and metrics["selected_epoch"] == 2


def test_per_epoch_test_accuracy_equals_skelact_test(synthetic_store_3d: Path, tmp_path: Path) -> None:
    """The metric test_optimistic selects on is the top-1 that `test` reports, on the same weights."""
    L.seed_everything(3)
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=16, batch_size=5)
    model = SupervisedClassifier.for_data(
        data,
        model_args={"base_channels": 8},
        report_dir=str(tmp_path / "report"),
    )
    trainer = L.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    reported = trainer.test(model, datamodule=data, verbose=False)[0]["test/top1"]
    assert float(OptimisticTestTop1().top1(trainer, model)) == pytest.approx(reported)
    report = find_test_report(trainer).report
    assert report["selection"] == "in_memory" and report["checkpoint"] is None


def test_gathered_hits_count_each_sample_once() -> None:
    """Two ranks' shards of 5 samples, padded to 3 each with a repeat of sample 0 (as EpochSampler pads)."""
    hit = torch.tensor([1, 0, 1, 0, 1, 1])  # rank 0: samples 0, 2, 4; rank 1: samples 1, 3, 0 (padding)
    index = torch.tensor([0, 2, 4, 1, 3, 0])
    assert float(mean_over_unique(hit, index)) == pytest.approx(3 / 5)


def test_without_a_validation_split_the_last_epoch_is_kept(synthetic_store_3d: Path, tmp_path: Path) -> None:
    args = [*common(synthetic_store_3d, tmp_path), "--data.val_split", "null", "--trainer.max_epochs", "1"]
    with pytest.warns(UserWarning, match="no validation split"):
        assert main(["fit", *args]) == 0
    checkpoints = newest_run(tmp_path) / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch-000.ckpt", "last.ckpt"]
    assert record(checkpoints / "last.ckpt")["select_on"] == "last"


def test_a_run_without_validation_tests_its_last_epoch_quietly(
    synthetic_store_3d: Path, tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    """The small-data recipe of docs/custom-data.md: fit on train_full without validation, test the last
    epoch; the test's checkpoint callback matches the fit's, so Lightning has no callback to ask for."""
    data = ["--data.train_split", "train_full", "--data.val_split", "null", "--trainer.max_epochs", "1"]
    args = [*common(synthetic_store_3d, tmp_path), *data]
    assert main(["fit", *args]) == 0
    run_dir = newest_run(tmp_path)
    recwarn.clear()
    assert main(["test", *args, "--ckpt_path", str(run_dir), "--report", "last"]) == 0
    messages = [str(w.message) for w in recwarn]
    assert not any("callbacks used to create the checkpoint" in m for m in messages), messages
    metrics = json.loads((newest_run(tmp_path) / "test" / "metrics.json").read_text())
    assert metrics["selection"] == "last"


def test_unknown_select_on_is_a_config_error(synthetic_store_3d: Path, tmp_path: Path, capsys) -> None:
    code = main(["fit", *common(synthetic_store_3d, tmp_path), "--model.select_on", "test"])
    err = capsys.readouterr().err
    assert code == 2 and "select_on" in err and len(err.strip().splitlines()) == 1


def test_report_only_applies_to_test_and_validate(synthetic_store_3d: Path, tmp_path: Path, capsys) -> None:
    code = main(["fit", *common(synthetic_store_3d, tmp_path), "--report", "last"])
    err = capsys.readouterr().err
    assert code == 2 and "--report applies to `skelact test`" in err
    code = main(["test", *common(synthetic_store_3d, tmp_path), "--report", "best"])
    assert code == 2 and "unknown --report 'best'" in capsys.readouterr().err


def test_resolve_checkpoint(tmp_path: Path) -> None:
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "last.ckpt").write_bytes(b"")
    assert resolve_checkpoint(str(tmp_path / "run"), None) == str(checkpoints / "last.ckpt")  # last-only run
    (checkpoints / "best-004.ckpt").write_bytes(b"")
    assert resolve_checkpoint(str(tmp_path / "run"), None) == str(checkpoints / "best-004.ckpt")
    assert resolve_checkpoint(str(checkpoints), "selected") == str(checkpoints / "best-004.ckpt")
    assert resolve_checkpoint(str(tmp_path / "run"), "last") == str(checkpoints / "last.ckpt")
    file = str(checkpoints / "best-004.ckpt")
    assert resolve_checkpoint(file, None) == file and resolve_checkpoint(None, None) is None
    assert resolve_checkpoint("best", None) == "best"  # Lightning's own names pass through
    with pytest.raises(ConfigError, match="is not one"):
        resolve_checkpoint(file, "last")
    with pytest.raises(ConfigError, match="needs --ckpt_path"):
        resolve_checkpoint(None, "last")
    (checkpoints / "best-007.ckpt").write_bytes(b"")
    with pytest.raises(ConfigError, match="several selected checkpoints"):
        resolve_checkpoint(str(tmp_path / "run"), None)
    with pytest.raises(ConfigError, match="no checkpoint"):
        resolve_checkpoint(str(tmp_path), None)


def test_selection_result_without_a_record() -> None:
    assert selection_result(None, None) == {"selection": "in_memory", "checkpoint": None}
    assert selection_result(None, "x.ckpt") == {"selection": "unknown", "checkpoint": "x.ckpt"}
    result = selection_result({"select_on": "val", "role": "selected", "epoch": 3}, "x.ckpt")
    assert result["selection"] == "val_best" and result["selected_epoch"] == 3
