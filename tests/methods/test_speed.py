"""Speed defaults: precision chosen per machine, allocator tuning, the compile switch, epoch timing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from skelact.cli.main import main
from skelact.methods import speed
from skelact.methods.supervised import SupervisedClassifier


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16-mixed"), (False, "32-true")])
def test_cpu_precision_follows_native_bf16(
    monkeypatch: pytest.MonkeyPatch, native: bool, expected: str
) -> None:
    monkeypatch.setattr(speed, "cpu_has_native_bf16", lambda: native)
    assert speed.auto_precision("cpu") == expected


def test_gpu_precision_is_left_at_lightnings_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speed, "cpu_has_native_bf16", lambda: True)
    assert speed.auto_precision("gpu") == "32-true"
    assert speed.auto_precision("cuda") == "32-true"


def test_allocator_tuning_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKELACT_ALLOCATOR", "default")
    assert speed.tune_allocator() is False


def test_compile_switch_keeps_checkpoint_names() -> None:
    model = SupervisedClassifier(model="stgcn", model_args={"base_channels": 8}, num_classes=4, compile=True)
    names = list(model.state_dict())
    model.configure_model()
    assert model.net._compiled_call_impl is not None
    assert list(model.state_dict()) == names
    plain = SupervisedClassifier(model="stgcn", model_args={"base_channels": 8}, num_classes=4)
    plain.configure_model()
    assert plain.net._compiled_call_impl is None


def test_unset_precision_is_resolved_and_epochs_are_timed(
    synthetic_store_3d: Path, tmp_path: Path, tiny_training: list[str]
) -> None:
    args = [a for a in tiny_training if a not in ("--trainer.precision", "32-true")]
    common = [*args, "--data.store", str(synthetic_store_3d), "--trainer.default_root_dir", str(tmp_path)]
    assert main(["fit", *common]) == 0
    run_dir = tmp_path / "version_0"
    assert main(["test", *common, "--ckpt_path", str(run_dir)]) == 0
    assert "precision: null" in (run_dir / "config.yaml").read_text()  # left to the machine
    metrics = json.loads((tmp_path / "version_1" / "test" / "metrics.json").read_text())
    assert metrics["precision"] == speed.auto_precision("cpu")
    with (run_dir / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    train_times = [float(r["time/train_epoch_s"]) for r in rows if r.get("time/train_epoch_s")]
    epoch_times = [float(r["time/epoch_s"]) for r in rows if r.get("time/epoch_s")]
    assert len(train_times) == len(epoch_times) == 2  # TINY_TRAINING runs two epochs
    assert all(0 < t <= e for t, e in zip(train_times, epoch_times, strict=True))
