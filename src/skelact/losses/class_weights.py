"""Per-class loss weights from training counts (class-balanced "effective number", BRL's action-aware β).

Counts are the real per-class sizes of the training split, so the weights are right for any imbalance ratio
(BRL's official code derives them from a formula hard-coded for ρ = 100; specs/brl.md section 10.1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skelact.errors import ConfigError


def check_counts(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    """Counts as float64, one per class; a class without samples counts as 1 so its weight stays finite
    (it is never a target, but it still enters the normalisation)."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or (arr < 0).any():
        raise ConfigError(f"class counts must be a non-empty list of non-negative numbers, got {counts!r}")
    return np.maximum(arr, 1.0)


def normalise_to_classes(weights: np.ndarray) -> np.ndarray:
    """Scale so the weights sum to the number of classes (mean 1), as Cui et al. and BRL do."""
    return weights * (weights.size / weights.sum())


def effective_number_weights(counts: Sequence[int] | np.ndarray, beta: float | np.ndarray) -> np.ndarray:
    """(1 − β) / (1 − β^n) per class, normalised to sum to C (Cui et al. 2019, fixed or per-class β)."""
    n = check_counts(counts)
    beta = np.broadcast_to(np.asarray(beta, dtype=np.float64), n.shape)
    if (beta < 0).any() or (beta >= 1).any():
        raise ConfigError(f"beta must be in [0, 1), got {beta.min()}..{beta.max()}")
    return normalise_to_classes((1.0 - beta) / (1.0 - np.power(beta, n)))


def action_aware_betas(
    counts: Sequence[int] | np.ndarray, beta_lo: float = 0.99, beta_hi: float = 0.9999
) -> np.ndarray:
    """β_y rising linearly with the class size: `beta_lo` for the smallest class, `beta_hi` for the largest
    (BRL's TwostageAALoss). With all classes equal, every β is `beta_hi` and the weights are all 1."""
    n = check_counts(counts)
    if not 0.0 <= beta_lo <= beta_hi < 1.0:
        raise ConfigError(f"need 0 <= beta_lo <= beta_hi < 1, got {beta_lo}, {beta_hi}")
    span = n.max() - n.min()
    position = (n - n.min()) / span if span > 0 else np.ones_like(n)
    return beta_lo + (beta_hi - beta_lo) * position


def action_aware_weights(
    counts: Sequence[int] | np.ndarray, beta_lo: float = 0.99, beta_hi: float = 0.9999
) -> np.ndarray:
    """BRL's action-aware class weights: effective-number weights with the class-dependent β_y."""
    return effective_number_weights(counts, action_aware_betas(counts, beta_lo, beta_hi))
