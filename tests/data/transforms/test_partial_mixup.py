"""BRL's rebalanced partial mixup: unmixed samples untouched, the mixed one holds its own upper body and the
partner's lower body in place (or the official permuted order on request), λ by the κ rule."""

from __future__ import annotations

import pytest
import torch

from skelact.data.transforms.partial_mixup import PartialMixup
from skelact.errors import LayoutError
from skelact.skeleton import get_layout

LAYOUT = get_layout("ntu25")
UPPER, LOWER = list(LAYOUT.part("upper")), list(LAYOUT.part("lower"))


def _batch(n: int) -> torch.Tensor:
    """Sample s holds s + joint/100 everywhere, so every value says which sample and joint it came from."""
    joint = torch.arange(25, dtype=torch.float32) / 100
    return (
        (torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1, 1) + joint.view(1, 1, 1, 25, 1))
        .expand(n, 2, 4, 25, 3)
        .clone()
    )


def test_one_sample_in_sixteen_mixes_in_place_and_the_rest_are_untouched() -> None:
    x, labels = _batch(16), torch.arange(16) % 4
    counts = torch.tensor([100, 90, 80, 70])
    mix = PartialMixup(LAYOUT).train()
    out, labels_b, lam = mix(x, labels, counts, generator=torch.Generator().manual_seed(0))
    changed = (out != x).flatten(1).any(1)
    assert changed.sum() == 1
    i = int(changed.nonzero())
    keep = ~changed
    assert torch.equal(out[keep], x[keep]) and torch.equal(labels_b[keep], labels[keep])
    assert (lam[keep] == 1).all() and lam[i] == pytest.approx(0.64)
    partner = int(out[i, 0, 0, LOWER[0], 0].floor())
    assert partner != i and labels_b[i] == labels[partner]
    assert torch.equal(out[i][:, :, UPPER], x[i][:, :, UPPER])
    assert torch.equal(out[i][:, :, LOWER], x[partner][:, :, LOWER])


@pytest.mark.parametrize(
    ("counts", "lam_if_0_chosen"), [([100, 34], 0.64), ([30, 10], 0.64), ([100, 33], 0.0), ([10, 31], 1.0)]
)
def test_lambda_follows_the_kappa_rule(counts: list[int], lam_if_0_chosen: float) -> None:
    """λ = 0 if the sample's class is over κ = 3 times the partner's, 1 if the partner's is, else 0.64."""
    x, labels = _batch(2), torch.tensor([0, 1])
    mix = PartialMixup(LAYOUT, ratio=0.5).train()
    for seed in range(6):  # both samples get chosen at some seed
        out, labels_b, lam = mix(
            x, labels, torch.tensor(counts), generator=torch.Generator().manual_seed(seed)
        )
        i = int((out != x).flatten(1).any(1).nonzero())
        n_a, n_b = counts[i], counts[1 - i]
        expected = 0.0 if n_a > 3 * n_b else 1.0 if n_b > 3 * n_a else 0.64
        assert lam[i] == pytest.approx(expected) and labels_b[i] == 1 - i
        if i == 0:
            assert expected == lam_if_0_chosen


def test_official_order_concatenates_upper_then_lower() -> None:
    x, labels = _batch(16), torch.zeros(16, dtype=torch.long)
    mix = PartialMixup(LAYOUT, preserve_joint_order=False).train()
    out, _, _ = mix(x, labels, torch.tensor([5]), generator=torch.Generator().manual_seed(1))
    i = int((out != x).flatten(1).any(1).nonzero())
    partner = int(out[i, 0, 0, len(UPPER), 0].floor())
    assert torch.equal(out[i], torch.cat([x[i][:, :, UPPER], x[partner][:, :, LOWER]], dim=2))


def test_ratio_eval_mode_and_layout_checks() -> None:
    x, labels = _batch(16), torch.zeros(16, dtype=torch.long)
    out, _, lam = PartialMixup(LAYOUT, ratio=0.25).train()(x, labels, torch.tensor([5]))
    assert (out != x).flatten(1).any(1).sum() == 4 and (lam == 0.64).sum() == 4
    out, _, _ = PartialMixup(LAYOUT).eval()(x, labels, torch.tensor([5]))
    assert out is x
    with pytest.raises(LayoutError, match="no part"):
        PartialMixup(LAYOUT, upper="wings")
