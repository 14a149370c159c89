"""Training stops at the first non-finite loss, with one error that says where and which samples.

A NaN or infinite loss makes every later step NaN: the run would go on for hours and its checkpoints would
hold NaN weights. The check runs after each training batch, so no checkpoint is written from the bad step
on; the run's checkpoints stay those of the last finished epoch.

Cost: reading the loss to the host is one device synchronisation per step. Lightning already does one at
every step for values logged with `prog_bar=True` (the supervised method's `train/loss`), so for those
methods the check adds no wait; for a method that logs nothing to the progress bar it adds one per step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch

from skelact.errors import SkelactError

MAX_LISTED = 8  # sample ids named in the message


class NonFiniteLossError(SkelactError):
    """The training loss became NaN or infinite."""


class StopOnNonFiniteLoss(L.Callback):
    """Raises `NonFiniteLossError` after the first training batch whose loss is not finite."""

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if not isinstance(loss, torch.Tensor) or bool(torch.isfinite(loss).all()):
            return
        # global_step counts the optimizer steps including this batch's, as checkpoint names and logs do.
        where = f"batch {batch_idx} of epoch {trainer.current_epoch} (global step {trainer.global_step})"
        raise NonFiniteLossError(
            f"training loss is {float(loss.detach().float().mean())} in {where}; {_culprits(trainer, batch)}",
            hint="the checkpoints on disk are from before this step",
        )


def _culprits(trainer: L.Trainer, batch: Any) -> str:
    """Which samples of `batch` have non-finite input, or, when none has, what that suggests."""
    if not isinstance(batch, Mapping) or not isinstance(batch.get("keypoint"), torch.Tensor):
        return "the batch holds no keypoint tensor to check"
    keypoint, index = batch["keypoint"], batch.get("index")
    bad = ~torch.isfinite(keypoint.flatten(1)).all(dim=1)
    if not bool(bad.any()):
        return (
            "every input of the batch is finite, so training diverged "
            "(try a lower model.lr, a warm-up, or --trainer.precision 32-true)"
        )
    if not isinstance(index, torch.Tensor):
        return f"{int(bad.sum())} sample(s) of the batch have NaN or infinite coordinates"
    indices = index[bad].tolist()
    shown = indices[:MAX_LISTED]
    names = _sample_ids(trainer, shown)
    listed = ", ".join(f"{name} (store index {i})" for name, i in zip(names, shown, strict=True))
    more = f" and {len(indices) - MAX_LISTED} more" if len(indices) > MAX_LISTED else ""
    return f"samples with NaN or infinite coordinates: {listed}{more}"


def _sample_ids(trainer: L.Trainer, indices: list[int]) -> list[str]:
    """The store's ids of `indices` through the datamodule, or `#INDEX` without one."""
    sample_ids = getattr(getattr(trainer, "datamodule", None), "sample_ids", None)
    if sample_ids is None:
        return [f"#{i}" for i in indices]
    return [str(name) for name in sample_ids(indices)]
