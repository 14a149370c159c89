"""Learning-rate schedules stepped per iteration: linear warm-up, then cosine to zero or step decay."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from skelact.errors import ConfigError

SCHEDULES = ("cosine", "step", "constant")


def lr_factor(
    step: int,
    *,
    total_steps: int,
    steps_per_epoch: float,
    schedule: str,
    warmup_epochs: float = 0.0,
    milestones: Sequence[int] = (),
    gamma: float = 0.1,
) -> float:
    """Multiplier of the base learning rate at optimizer step `step` (0-based).

    Warm-up ramps linearly from 1/warmup_steps to 1 (CTR-GCN's 5-epoch warm-up); "cosine" decays to 0 at the
    last step (PYSKL, per iteration); "step" multiplies by `gamma` at each milestone epoch (CTR-GCN 35, 55).
    """
    warmup_steps = round(warmup_epochs * steps_per_epoch)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        span = max(total_steps - warmup_steps, 1)
        progress = min((step - warmup_steps) / span, 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if schedule == "step":
        epoch = step / max(steps_per_epoch, 1e-9)
        return gamma ** sum(epoch >= m for m in milestones)
    raise ConfigError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def step_schedule(optimizer: Any, trainer: Any, hp: Any) -> dict[str, Any]:
    """Lightning's optimizer config with `lr_factor` applied per step from the hyper-parameters `hp`
    (schedule, warmup_epochs, milestones, gamma), sized from the trainer's estimated steps."""
    total = int(trainer.estimated_stepping_batches)
    per_epoch = total / max(trainer.max_epochs or 1, 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: lr_factor(
            step,
            total_steps=total,
            steps_per_epoch=per_epoch,
            schedule=hp.schedule,
            warmup_epochs=hp.warmup_epochs,
            milestones=hp.milestones or (),
            gamma=hp.gamma,
        ),
    )
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
