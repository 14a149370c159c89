"""HaLP's hallucinated positives (specs/halp.md §5.4-§5.7, §9.1-§9.3): the closed-form step against a
numerical solution of the same objective, the sphere, the hardness, the rank filter and the loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from skelact.errors import ConfigError
from skelact.losses.halp import boundary_step, hallucinate, halp_loss, rank_filter, sample_steps, slerp


def _case(dim: int, n: int, seed: int, num_prototypes: int = 20) -> tuple[torch.Tensor, ...]:
    """Random unit anchors z, their closest prototype p0 and another prototype p_s (float64)."""
    g = torch.Generator().manual_seed(seed)
    z = F.normalize(torch.randn(n, dim, generator=g, dtype=torch.float64), dim=1)
    prototypes = F.normalize(torch.randn(num_prototypes, dim, generator=g, dtype=torch.float64), dim=1)
    ranked = (z @ prototypes.t()).argsort(1, descending=True)
    other = ranked.gather(1, torch.randint(1, num_prototypes, (n, 1), generator=g)).squeeze(1)
    return z, prototypes[ranked[:, 0]], prototypes[other]


def _largest_admissible_step(z: torch.Tensor, p0: torch.Tensor, ps: torch.Tensor) -> torch.Tensor:
    """The objective solved numerically: the largest t in [0, 1] whose slerp point is at least as similar to
    p0 as to p_s; a grid brackets the last admissible t, bisection refines it (no closed form used)."""

    def admissible(t: torch.Tensor) -> torch.Tensor:
        g = slerp(z, ps, t)
        return (g * p0).sum(-1) >= (g * ps).sum(-1)

    grid = torch.linspace(0, 1, 201, dtype=z.dtype)
    ok = torch.stack([admissible(torch.full((len(z),), float(t), dtype=z.dtype)) for t in grid], 1)
    last = (ok.double() * torch.arange(201)).argmax(1)  # index of the last admissible grid point
    lo, hi = grid[last], grid[(last + 1).clamp_max(200)]
    for _ in range(25):  # the bracket is 1/200 wide: 25 halvings reach 1e-10
        mid = (lo + hi) / 2
        good = admissible(mid)
        lo, hi = torch.where(good, mid, lo), torch.where(good, hi, mid)
    return lo


@pytest.mark.parametrize("dim", [3, 8, 128])
def test_closed_form_equals_the_numerical_solution(dim: int) -> None:
    z, p0, ps = _case(dim, 200, seed=dim)
    closed = boundary_step(z, p0, ps)
    numeric = _largest_admissible_step(z, p0, ps)
    assert (closed - numeric).abs().max() < 1e-3
    assert (closed > 0).all() and (closed < 1).all()


def test_closed_form_point_is_equidistant_and_smaller_steps_stay_with_p0() -> None:
    z, p0, ps = _case(16, 2000, seed=1)
    t_star = boundary_step(z, p0, ps)
    g = slerp(z, ps, t_star)
    assert ((g * p0).sum(1) - (g * ps).sum(1)).abs().max() < 1e-6  # spec §9.1
    inner = slerp(z, ps, 0.5 * t_star)
    assert ((inner * p0).sum(1) > (inner * ps).sum(1)).all()
    assert torch.allclose(slerp(z, ps, torch.zeros(len(z), dtype=z.dtype)), z)  # t = 0 is the anchor
    assert torch.allclose(g.norm(dim=1), torch.ones(len(z), dtype=z.dtype))


def test_negative_official_atan_case_still_gets_the_crossing() -> None:
    """κ + cos ω < 0 (z far from p_s): the official atan gives t* < 0; atan2 gives the true crossing."""

    def at(degrees: float) -> torch.Tensor:  # a unit vector in the x-y plane
        angle = torch.tensor(degrees, dtype=torch.float64).deg2rad()
        return torch.stack([angle.cos(), angle.sin(), torch.zeros((), dtype=torch.float64)])[None]

    z, p0, ps = at(0.0), at(80.0), at(120.0)  # p0 is z's closest prototype, p_s lies beyond 90 degrees
    cos = float((z * ps).sum())
    kappa = float((1 - (ps * p0).sum()) / (z * (p0 - ps)).sum())
    assert kappa + cos < 0  # the edge case of spec §5.4
    t_star = boundary_step(z, p0, ps)
    assert 0 < float(t_star) < 1
    assert float(t_star) == pytest.approx(float(_largest_admissible_step(z, p0, ps)), abs=1e-6)


def test_positives_lie_on_the_sphere_with_the_hardness_asked() -> None:
    g = torch.Generator().manual_seed(3)
    anchors = F.normalize(torch.randn(64, 32, generator=g), dim=1)
    prototypes = F.normalize(torch.randn(20, 32, generator=g), dim=1)
    made = hallucinate(anchors, prototypes, num_positives=100, hardness=0.8, generator=g)
    assert made.positives.shape == (64, 100, 32)
    assert (made.positives.norm(dim=-1) - 1).abs().max() < 1e-5
    ratio = made.steps / made.boundary
    assert ratio.min() >= 0.2 - 1e-6 and ratio.max() <= 1 + 1e-6  # spec §9.2: t/t* in [0.2, 1]
    assert ratio.min() < 0.25 and ratio.max() > 0.95  # and the whole range is drawn
    own = prototypes[made.own][:, None]
    target = prototypes[made.target]
    margin = (made.positives * own).sum(-1) - (made.positives * target).sum(-1)
    assert margin.min() > -1e-5  # every positive is at least as close to p0 as to its target
    assert (made.target != made.own[:, None]).all()  # targets are the 19 other prototypes
    assert made.target.unique().numel() == 20

    hardest = hallucinate(anchors, prototypes, num_positives=100, hardness=0.0, generator=g)
    own, target = prototypes[hardest.own][:, None], prototypes[hardest.target]
    hard_margin = (hardest.positives * own).sum(-1) - (hardest.positives * target).sum(-1)
    assert hard_margin.abs().max() < 1e-5  # λ = 0: on the boundary, equally similar to p0 and p_s


def test_deterministic_sentinel_and_bad_hardness() -> None:
    boundary = torch.tensor([0.3, 0.5])
    assert torch.allclose(sample_steps(boundary, 1000.0), boundary - 0.01)  # spec §9.2
    with pytest.raises(ConfigError, match="lambda_pos"):
        hallucinate(torch.eye(3), torch.eye(3), hardness=1.5)


def test_rank_filter_keeps_a_positive_iff_its_closest_prototype_is_the_anchors() -> None:
    prototypes = torch.eye(3)
    positives = F.normalize(torch.tensor([[[0.9, 0.1, 0.0], [0.2, 0.1, 0.9], [0.5, 0.5, 0.1]]]), dim=-1)
    own = torch.tensor([0])
    # the second drifted into a third cluster (prototype 2); the third is closer to prototype 0 (tie broken
    # towards the first index by argmax, as the official code)
    assert rank_filter(positives, prototypes, own).tolist() == [[True, False, True]]
    random = F.normalize(torch.randn(50, 7, 3), dim=-1)
    owns = torch.randint(0, 3, (50,))
    expected = (random @ prototypes.t()).argmax(-1) == owns[:, None]
    assert torch.equal(rank_filter(random, prototypes, owns), expected)


def test_alignment_loss_is_a_global_mean_over_kept_pairs() -> None:
    g = torch.Generator().manual_seed(5)
    query = F.normalize(torch.randn(3, 4, generator=g), dim=1).requires_grad_(True)
    positives = F.normalize(torch.randn(3, 5, 4, generator=g), dim=-1)
    keep = torch.tensor([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    loss = halp_loss(query, positives, keep, 0.07)
    q = query.detach()
    pairs = [float(q[i] @ positives[i, j]) / 0.07 for i in range(3) for j in range(5) if keep[i, j]]
    assert float(loss.detach()) == pytest.approx(-sum(pairs) / 7, abs=1e-6)  # 7 kept pairs, not per anchor
    # a global count given from outside (DDP) replaces the local one
    global_count = halp_loss(query, positives, keep, 0.07, num_kept=14.0)
    assert float(global_count.detach()) == pytest.approx(-sum(pairs) / 14, abs=1e-6)
    loss.backward()
    assert query.grad is not None and query.grad[1].abs().max() == 0  # no kept pair: no gradient


def test_infonce_form_puts_each_positive_against_the_queue() -> None:
    g = torch.Generator().manual_seed(6)
    query = F.normalize(torch.randn(2, 4, generator=g), dim=1)
    positives = F.normalize(torch.randn(2, 3, 4, generator=g), dim=-1)
    queue = F.normalize(torch.randn(10, 4, generator=g), dim=1)
    keep = torch.tensor([[True, False, True], [True, True, True]])
    loss = halp_loss(query, positives, keep, 0.1, form="infonce", queue=queue)
    terms = []
    for i in range(2):
        for j in range(3):
            if keep[i, j]:
                logits = torch.cat([(query[i] @ positives[i, j])[None], queue @ query[i]]) / 0.1
                terms.append(float(F.cross_entropy(logits[None], torch.tensor([0]))))
    assert float(loss) == pytest.approx(sum(terms) / 5, rel=1e-5)
    with pytest.raises(ConfigError, match="needs the queue"):
        halp_loss(query, positives, keep, 0.1, form="infonce")


def test_mixed_precision_does_not_reach_the_closed_form() -> None:
    g = torch.Generator().manual_seed(8)
    anchors = F.normalize(torch.randn(16, 32, generator=g), dim=1)
    prototypes = F.normalize(torch.randn(20, 32, generator=g), dim=1)
    plain = hallucinate(anchors, prototypes, num_positives=10, generator=torch.Generator().manual_seed(1))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = hallucinate(
            anchors.bfloat16(), prototypes, num_positives=10, generator=torch.Generator().manual_seed(1)
        )
    assert mixed.positives.dtype == torch.float32
    assert torch.allclose(mixed.boundary, plain.boundary, atol=1e-2)  # bf16 anchors, float32 maths
    anchors16 = anchors.bfloat16().float()
    exact = hallucinate(anchors16, prototypes, num_positives=10, generator=torch.Generator().manual_seed(1))
    assert torch.equal(mixed.boundary, exact.boundary)


def test_halp_loss_is_float32_under_mixed_precision() -> None:
    g = torch.Generator().manual_seed(9)
    query = F.normalize(torch.randn(3, 8, generator=g), dim=1).bfloat16()
    positives = F.normalize(torch.randn(3, 4, 8, generator=g), dim=-1)
    keep = torch.ones(3, 4, dtype=torch.bool)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = halp_loss(query, positives, keep, 0.07)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, halp_loss(query.float(), positives, keep, 0.07))
