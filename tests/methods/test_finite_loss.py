"""Training stops at the first non-finite loss with one clear error naming the step and the samples (issue 13
item 2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from skelact.cli.main import main
from skelact.data.datamodule import ClipDataset
from skelact.data.store import SkeletonStore
from skelact.methods.finite_loss import NonFiniteLossError, StopOnNonFiniteLoss


def test_a_nan_sample_stops_training_with_one_line(
    synthetic_store_3d: Path, tmp_path: Path, tiny_fit_args: list[str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    store = SkeletonStore(synthetic_store_3d)
    poisoned = int(store.split("train")[5])
    read = ClipDataset.__getitem__

    def with_nan(self: ClipDataset, item: Any) -> dict[str, Any]:
        sample = read(self, item)
        if sample["index"] == poisoned:
            sample["keypoint"][..., 0, 0] = float("nan")
        return sample

    monkeypatch.setattr(ClipDataset, "__getitem__", with_nan)
    args = tiny_fit_args
    assert main(["fit", *args, "--data.batch_size", "64"]) == 2  # one batch: the poisoned sample is in step 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "training loss is nan in batch 0 of epoch 0 (global step 1)" in err
    assert f"{store.sample_ids[poisoned]} (store index {poisoned})" in err
    assert not list(tmp_path.glob("version_*/checkpoints/*.ckpt"))  # stopped before any epoch's checkpoint


def test_finite_inputs_name_divergence() -> None:
    trainer = SimpleNamespace(current_epoch=3, global_step=41, datamodule=None)
    batch = {"keypoint": torch.zeros(4, 1, 2, 8, 25, 3), "index": torch.arange(4)}
    guard = StopOnNonFiniteLoss()
    guard.on_train_batch_end(trainer, None, {"loss": torch.tensor(2.3)}, batch, 7)  # finite: nothing happens
    with pytest.raises(
        NonFiniteLossError,
        match=r"inf in batch 7 of epoch 3 \(global step 41\); every input .* training diverged",
    ):
        guard.on_train_batch_end(trainer, None, {"loss": torch.tensor(float("inf"))}, batch, 7)
    batch["keypoint"][[1, 3], 0, 0, 0, 0, 0] = float("inf")
    with pytest.raises(NonFiniteLossError, match=r"#1 \(store index 1\), #3 \(store index 3\) \(hint"):
        guard.on_train_batch_end(trainer, None, torch.tensor(float("nan")), batch, 7)
