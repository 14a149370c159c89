"""Long-tail losses: BRL's action-aware weights (specs/brl.md section 6), the deferred switch, the mixup
reduction, and the baselines against their textbook definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skelact.data.prepare.longtail import longtail_counts
from skelact.errors import ConfigError
from skelact.losses import action_aware_betas, action_aware_weights, build_loss, effective_number_weights


@pytest.mark.parametrize(
    ("n_max", "classes", "rho", "head", "tail"),
    [
        (600, 60, 100, 0.041, 4.08),
        (600, 120, 100, 0.041, 4.10),
        (400, 120, 100, 0.041, 4.12),
        (100, 10, 10, 0.222, 2.31),
    ],
)
def test_action_aware_weights_match_the_spec_table(
    n_max: int, classes: int, rho: int, head: float, tail: float
):
    counts = longtail_counts(n_max, rho, classes)
    weights = action_aware_weights(counts)
    assert weights.sum() == pytest.approx(classes)  # normalised to sum to C
    assert round(weights[0], 3) == head and round(weights[-1], 2) == tail


def test_ntu60_weights_at_rho_100_to_two_decimals():
    """Done-when figure: NTU-60 at ρ = 100 gives 0.041 (head) and 4.08 (tail)."""
    weights = action_aware_weights(longtail_counts(600, 100, 60))
    assert f"{weights[0]:.3f}" == "0.041" and f"{weights[-1]:.2f}" == "4.08"
    assert f"{weights[30]:.3f}" == "0.535"


def test_betas_run_from_tail_to_head_and_equal_counts_give_unit_weights():
    betas = action_aware_betas([600, 300, 6])
    assert betas.tolist() == pytest.approx([0.9999, 0.99 + 0.0099 * 294 / 594, 0.99])
    assert action_aware_weights([50, 50, 50]) == pytest.approx([1.0, 1.0, 1.0])
    assert np.isfinite(action_aware_weights([10, 0, 5])).all()  # an empty class stays finite


def _batch(n: int = 12, k: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, k, generator=g),
        torch.randint(0, k, (n,), generator=g),
        torch.randint(0, k, (n,), generator=g),
    )


def test_action_aware_is_plain_ce_before_the_switch_then_weighted_mean():
    counts = [400, 200, 90, 30, 8]
    logits, a, _ = _batch()
    loss = build_loss({"name": "action_aware", "switch_epoch": 20}, counts)
    w = torch.tensor(action_aware_weights(counts), dtype=torch.float32)
    assert loss(logits, a, epoch=18) == pytest.approx(F.cross_entropy(logits, a).item())  # 19th epoch
    weighted = F.cross_entropy(logits, a, weight=w)  # PyTorch divides by the sum of the sample weights
    assert loss(logits, a, epoch=19) == pytest.approx(weighted.item())  # the 20th epoch switches
    assert loss(logits, a, epoch=30) == pytest.approx(weighted.item())


def test_mixed_targets_reduce_like_lambda_weighted_ce_per_target():
    counts = [400, 200, 90, 30, 8]
    logits, a, b = _batch()
    w = torch.tensor(action_aware_weights(counts), dtype=torch.float32)
    loss = build_loss({"name": "action_aware", "switch_epoch": 0}, counts)
    lam = torch.full((12,), 0.64)
    expected = 0.64 * F.cross_entropy(logits, a, weight=w) + 0.36 * F.cross_entropy(logits, b, weight=w)
    assert loss(logits, a, target_b=b, lam=lam) == pytest.approx(expected.item(), rel=1e-5)
    # Unmixed samples (b = a, λ = 1) give exactly the single-target loss.
    assert loss(logits, a, target_b=a, lam=torch.ones(12)) == pytest.approx(loss(logits, a).item(), rel=1e-6)


def test_baselines_follow_their_definitions():
    counts = np.array([400, 200, 90, 30, 8])
    logits, a, _ = _batch()
    cb = build_loss({"name": "class_balanced", "beta": 0.999}, counts)
    w = torch.tensor(effective_number_weights(counts, 0.999), dtype=torch.float32)
    assert cb(logits, a) == pytest.approx(F.cross_entropy(logits, a, weight=w).item(), rel=1e-6)
    assert w.sum().item() == pytest.approx(5.0)
    assert build_loss({"name": "focal", "gamma": 0.0}, counts)(logits, a) == pytest.approx(
        F.cross_entropy(logits, a).item(), rel=1e-6
    )
    p = logits.softmax(-1)[torch.arange(12), a]
    focal = (-((1 - p) ** 2) * p.log()).mean()
    assert build_loss("focal", counts)(logits, a) == pytest.approx(focal.item(), rel=1e-5)
    shifted = logits + torch.log(torch.tensor(counts, dtype=torch.float32))
    bs = build_loss("balanced_softmax", counts)(logits, a)
    assert bs == pytest.approx(F.cross_entropy(shifted, a).item(), rel=1e-5)
    assert build_loss("logit_adjustment", counts)(logits, a) == pytest.approx(bs.item(), rel=1e-5)
    la2 = build_loss({"name": "logit_adjustment", "tau": 2.0}, counts)(logits, a)
    prior = torch.tensor(counts / counts.sum(), dtype=torch.float32)
    assert la2 == pytest.approx(F.cross_entropy(logits + 2 * prior.log(), a).item(), rel=1e-5)
    assert build_loss("ce", counts)(logits, a) == pytest.approx(F.cross_entropy(logits, a).item())


def test_bad_loss_configs_are_config_errors():
    with pytest.raises(ConfigError, match="unknown loss"):
        build_loss("ldam", [1, 2])
    with pytest.raises(ConfigError, match="bad options"):
        build_loss({"name": "focal", "beta": 0.9}, [1, 2])
    with pytest.raises(ConfigError):
        action_aware_weights([5, 3], beta_lo=0.9999, beta_hi=0.99)
