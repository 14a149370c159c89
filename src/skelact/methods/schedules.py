"""Learning-rate schedules stepped per iteration: linear warm-up, then cosine to zero or step decay.

The warm-up ramps per iteration by default; ``warmup_interval="epoch"`` holds each warm-up epoch at one value,
as the official CTR-GCN code sets its learning rate once per epoch (lr x (epoch + 1) / warmup_epochs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from skelact.errors import ConfigError

SCHEDULES = ("cosine", "step", "constant")
WARMUP_INTERVALS = ("step", "epoch")


def check_schedule(schedule: str) -> str:
    """`schedule` if `lr_factor` knows it; one clear error at construction, not at the first step."""
    if schedule not in SCHEDULES:
        raise ConfigError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    return schedule


def lr_factor(
    step: int,
    *,
    total_steps: int,
    steps_per_epoch: float,
    schedule: str,
    warmup_epochs: float = 0.0,
    milestones: Sequence[int] = (),
    gamma: float = 0.1,
    warmup_interval: str = "step",
) -> float:
    """Multiplier of the base learning rate at optimizer step `step` (0-based).

    Warm-up ramps linearly from 1/warmup_steps to 1 (CTR-GCN's 5-epoch warm-up), or with `warmup_interval`
    "epoch" is (epoch + 1) / warmup_epochs for the whole of each epoch before `warmup_epochs` (capped at 1);
    "cosine" decays to 0 at the last step (PYSKL, per iteration); "step" multiplies by `gamma` at each
    milestone epoch (CTR-GCN 35, 55).
    """
    if warmup_interval not in WARMUP_INTERVALS:
        raise ConfigError(
            f"unknown warmup_interval {warmup_interval!r}; choose one of {', '.join(WARMUP_INTERVALS)}"
        )
    warmup_steps = round(warmup_epochs * steps_per_epoch)
    if step < warmup_steps:
        if warmup_interval == "epoch":
            epoch = math.floor(step / max(steps_per_epoch, 1e-9))
            return min((epoch + 1) / warmup_epochs, 1.0)
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
    (schedule, warmup_epochs, milestones, gamma, and warmup_interval where the method has it), sized from
    the trainer's estimated steps."""
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
            warmup_interval=hp.get("warmup_interval", "step"),
        ),
    )
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
