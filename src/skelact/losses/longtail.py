"""Long-tail classification losses on one head: plain, re-weighted (class-balanced, BRL's action-aware),
focal, and logit-adjusted (balanced softmax, logit adjustment).

Every loss takes the logits, the target of each sample and optionally a second target with a per-sample
weight λ (partial mixup), and returns

    Σ_i λ_i w_{a_i} ℓ_i(a_i) / Σ_i w_{a_i}  +  Σ_i (1 − λ_i) w_{b_i} ℓ_i(b_i) / Σ_i w_{b_i},

the weighted-mean reduction of PyTorch's weighted cross-entropy applied to each target. With one λ for the
batch this is exactly BRL's λ·CE_w(a) + (1 − λ)·CE_w(b); unmixed samples have a = b and λ = 1. Losses
with a deferred switch (DRW, BRL's detached schedule) stay plain cross-entropy before `switch_epoch`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from skelact.errors import ConfigError
from skelact.losses.class_weights import action_aware_weights, check_counts, effective_number_weights


class LongTailLoss:
    """Base: per-sample loss and per-class weights; subclasses override `per_sample` or `class_weights`.

    Not an `nn.Module`: it holds no parameters, so checkpoints keep their keys whatever loss trained them.
    """

    def __init__(self, counts: Sequence[int] | np.ndarray, switch_epoch: int = 0) -> None:
        self.counts = check_counts(counts)
        if switch_epoch < 0:
            raise ConfigError(f"switch_epoch must be >= 0, got {switch_epoch}")
        self.switch_epoch = switch_epoch
        self._cache: dict[tuple[str, torch.device, torch.dtype], Tensor] = {}

    @property
    def num_classes(self) -> int:
        return self.counts.size

    def class_weights(self) -> np.ndarray | None:
        """Per-class weights of the re-weighted stage, or None for an unweighted loss."""
        return None

    def switched(self, epoch: int) -> bool:
        """True once the re-weighted stage is on. Epochs count from 1 as in the papers: `switch_epoch`
        20 weights epochs 20, 21, ... (0-based `epoch` >= 19), BRL's ⌊(e + 1) / 20⌋ > 0."""
        return epoch + 1 >= self.switch_epoch

    def per_sample(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits, target, reduction="none")

    def __call__(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        epoch: int = 0,
        target_b: Tensor | None = None,
        lam: Tensor | None = None,
    ) -> Tensor:
        logits = logits.float()
        weights = self.class_weights() if self.switched(epoch) else None
        w = None if weights is None else self._tensor("w", weights, logits)
        loss_a = self._reduce(self.per_sample(logits, target), target, w, lam)
        if target_b is None:
            return loss_a
        if lam is None:
            raise ConfigError("a second target needs its per-sample weight lam")
        return loss_a + self._reduce(self.per_sample(logits, target_b), target_b, w, 1.0 - lam)

    @staticmethod
    def _reduce(loss: Tensor, target: Tensor, w: Tensor | None, lam: Tensor | None) -> Tensor:
        sample_w = torch.ones_like(loss) if w is None else w[target]
        scaled = loss * sample_w if lam is None else loss * sample_w * lam.to(loss.dtype)
        return scaled.sum() / sample_w.sum()

    def _tensor(self, key: str, values: np.ndarray, like: Tensor) -> Tensor:
        """Per-class constants, copied to the logits' device once."""
        cache_key = (key, like.device, like.dtype)
        if cache_key not in self._cache:
            self._cache[cache_key] = torch.as_tensor(values, dtype=like.dtype, device=like.device)
        return self._cache[cache_key]


class CrossEntropy(LongTailLoss):
    """Plain cross-entropy (the baseline every long-tail method is compared to)."""


class ClassBalancedCE(LongTailLoss):
    """Class-balanced cross-entropy (Cui et al. 2019): weights (1 − β)/(1 − β^n_y) with one fixed β, summing
    to C; BRL's first released configs (MixCBHead, β = 0.999, deferred like the action-aware loss)."""

    def __init__(
        self, counts: Sequence[int] | np.ndarray, beta: float = 0.999, switch_epoch: int = 0
    ) -> None:
        super().__init__(counts, switch_epoch)
        self.weights = effective_number_weights(self.counts, beta)

    def class_weights(self) -> np.ndarray:
        return self.weights


class ActionAwareCE(LongTailLoss):
    """BRL's detached action-aware loss: plain cross-entropy until `switch_epoch`, then cross-entropy weighted
    by the effective number with a per-class β_y from `beta_lo` (smallest class) to `beta_hi` (largest)."""

    def __init__(
        self,
        counts: Sequence[int] | np.ndarray,
        switch_epoch: int = 20,
        beta_lo: float = 0.99,
        beta_hi: float = 0.9999,
    ) -> None:
        super().__init__(counts, switch_epoch)
        self.weights = action_aware_weights(self.counts, beta_lo, beta_hi)

    def class_weights(self) -> np.ndarray:
        return self.weights


class FocalLoss(LongTailLoss):
    """Focal loss (Lin et al. 2017): (1 − p_y)^γ · CE, down-weighting the easy, mostly head, samples."""

    def __init__(self, counts: Sequence[int] | np.ndarray, gamma: float = 2.0, switch_epoch: int = 0) -> None:
        super().__init__(counts, switch_epoch)
        if gamma < 0:
            raise ConfigError(f"focal gamma must be >= 0, got {gamma}")
        self.gamma = gamma

    def per_sample(self, logits: Tensor, target: Tensor) -> Tensor:
        log_p = F.log_softmax(logits, dim=-1).gather(1, target[:, None]).squeeze(1)
        return -((1.0 - log_p.exp()).clamp_min(0.0) ** self.gamma) * log_p


class LogitAdjustedCE(LongTailLoss):
    """Logit-adjusted cross-entropy (Menon et al. 2021): CE on logits + τ·log π_y, π the training class
    prior; only the loss sees the shift, so predictions stay the plain logits. At τ = 1 it equals balanced
    softmax, since log π and log n differ by a constant that softmax ignores."""

    def __init__(self, counts: Sequence[int] | np.ndarray, tau: float = 1.0, switch_epoch: int = 0) -> None:
        super().__init__(counts, switch_epoch)
        self.shift = tau * np.log(self.counts / self.counts.sum())

    def per_sample(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits + self._tensor("shift", self.shift, logits), target, reduction="none")


class BalancedSoftmaxCE(LogitAdjustedCE):
    """Balanced softmax (Ren et al. 2020): CE on logits + log n_y, the training distribution's softmax."""

    def __init__(self, counts: Sequence[int] | np.ndarray, switch_epoch: int = 0) -> None:
        super().__init__(counts, tau=1.0, switch_epoch=switch_epoch)
        self.shift = np.log(self.counts)


LOSSES: dict[str, type[LongTailLoss]] = {
    "ce": CrossEntropy,
    "class_balanced": ClassBalancedCE,
    "action_aware": ActionAwareCE,
    "focal": FocalLoss,
    "balanced_softmax": BalancedSoftmaxCE,
    "logit_adjustment": LogitAdjustedCE,
}


def build_loss(config: str | Mapping[str, Any], counts: Sequence[int] | np.ndarray) -> LongTailLoss:
    """A loss from ``"focal"`` or ``{"name": "action_aware", "switch_epoch": 20}`` and the class counts."""
    options = {"name": config} if isinstance(config, str) else dict(config)
    name = options.pop("name", None)
    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}", hint=f"choose one of {', '.join(LOSSES)}")
    try:
        return LOSSES[name](counts, **options)
    except TypeError as err:
        raise ConfigError(f"bad options for loss {name!r}: {err}") from None


def loss_name(config: str | Mapping[str, Any] | None) -> str | None:
    """The loss name of a config value, or None for the default plain cross-entropy."""
    if config is None:
        return None
    return config if isinstance(config, str) else config.get("name")


__all__ = [
    "LOSSES",
    "ActionAwareCE",
    "BalancedSoftmaxCE",
    "ClassBalancedCE",
    "CrossEntropy",
    "FocalLoss",
    "LogitAdjustedCE",
    "LongTailLoss",
    "build_loss",
    "loss_name",
]
