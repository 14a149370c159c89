"""Optimizer parameter groups: which parameters weight decay applies to (`model.weight_decay_on`)."""

from __future__ import annotations

from typing import Any

from torch import nn

from skelact.errors import ConfigError

DECAY_TARGETS = ("weights", "all")


def decay_groups(module: nn.Module, weight_decay: float, decay_on: str = "weights") -> list[dict[str, Any]]:
    """Parameter groups of `module` for a torch optimizer.

    "weights" (skelact's default): BatchNorm and bias parameters, every 1-D tensor, get no weight decay, the
    common modern default; edge-importance masks are decayed like weights. "all": one group, every parameter
    decayed, as the official CTR-GCN and PYSKL optimizers do.
    """
    if decay_on not in DECAY_TARGETS:
        known = ", ".join(DECAY_TARGETS)
        raise ConfigError(f"weight_decay_on {decay_on!r} is unknown; choose one of {known}")
    if decay_on == "all":
        return [{"params": list(module.parameters()), "weight_decay": weight_decay}]
    decay, no_decay = [], []
    for param in module.parameters():
        (no_decay if param.ndim <= 1 else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
