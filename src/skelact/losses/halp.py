"""HaLP's hallucinated positives and their loss (Shah et al., CVPR 2023; specs/halp.md §5.3-§5.7).

Each anchor z (a key) is moved along the great circle towards another prototype p_s,

    ĝ(t) = [sin((1 − t)ω) z + sin(tω) p_s] / sin ω,   ω = arccos(z·p_s),

by a step t drawn below the largest t* that keeps ĝ at least as similar to the anchor's own (closest)
prototype p₀ as to p_s. Solving ĝ·p₀ = ĝ·p_s gives the closed form

    tan(t*ω) = sin ω / (κ + cos ω),   κ = (1 − p_s·p₀) / (z·(p₀ − p_s)).

[design choice] t* is taken as atan2(sin ω, κ + cos ω) / ω: equal to the official atan(·) whenever
κ + cos ω > 0, and still the (unique) crossing in (0, 1) when it is negative, where the official atan gives
a negative step (spec §5.4 edge cases); z·p_s is clamped before arccos. The rank filter then keeps a
positive only if its closest prototype among all of them is still p₀.

Everything is batched: anchors (N, D), prototypes (P, D), positives (N, S, D); no loop in the hot path.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from skelact.errors import ConfigError

EPS = 1e-8  # the official code adds it to the denominators
DETERMINISTIC_HARDNESS = 1000.0  # the official sentinel: λ = 1000 means t = t* − 0.01 (spec §5.5)
LOSS_FORMS = ("alignment", "infonce")


def slerp(anchor: Tensor, target: Tensor, t: Tensor) -> Tensor:
    """Points at fraction `t` of the great circle from unit `anchor` to unit `target` (broadcast over ...).

    Falls back to a normalised linear interpolation where the two are (anti)parallel (sin ω ≈ 0).
    """
    cos = (anchor * target).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    t = t.unsqueeze(-1)
    safe = sin > 1e-6
    denominator = torch.where(safe, sin, torch.ones_like(sin))
    curved = (torch.sin((1 - t) * omega) * anchor + torch.sin(t * omega) * target) / denominator
    straight = F.normalize((1 - t) * anchor + t * target, dim=-1)
    return torch.where(safe, curved, straight)


def boundary_step(anchor: Tensor, own: Tensor, target: Tensor) -> Tensor:
    """t* (...,): the step along the slerp from `anchor` to `target` at which the point becomes equally
    similar to `own` (p₀) and `target` (p_s); all inputs (..., D) unit vectors."""
    cos = (anchor * target).sum(-1).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    margin = (anchor * (own - target)).sum(-1)  # z·(p₀ − p_s) >= 0 when p₀ is z's closest prototype
    kappa = (1 - (target * own).sum(-1)) / (margin + EPS)
    return torch.atan2(torch.sin(omega), kappa + cos) / (omega + EPS)


def sample_steps(boundary: Tensor, hardness: float, generator: torch.Generator | None = None) -> Tensor:
    """t = (1 − u)·t*, u ~ U(0, λ) per positive: λ = 0.8 gives t ∈ [0.2 t*, t*]; λ = 1000 gives t* − 0.01."""
    if hardness == DETERMINISTIC_HARDNESS:
        return boundary - 0.01
    u = _uniform(generator, boundary.shape, boundary.device, boundary.dtype) * hardness
    return (1 - u) * boundary


def check_hardness(hardness: float) -> float:
    if not (0.0 <= hardness <= 1.0 or hardness == DETERMINISTIC_HARDNESS):
        raise ConfigError(
            f"hardness (lambda_pos) must be in [0, 1] or {DETERMINISTIC_HARDNESS:g}, got {hardness}",
            hint="0.8 is the value of every released HaLP script (PKU's 'type4_auto-0.8' means 0.8)",
        )
    return hardness


class Hallucinated(NamedTuple):
    positives: Tensor  # (N, S, D) unit vectors
    keep: Tensor  # (N, S) bool, the rank filter (detached)
    steps: Tensor  # (N, S) the sampled t
    boundary: Tensor  # (N, S) t*
    own: Tensor  # (N,) index of each anchor's closest prototype p₀
    target: Tensor  # (N, S) index of each positive's target prototype p_s


def hallucinate(
    anchors: Tensor,
    prototypes: Tensor,
    *,
    num_positives: int = 100,
    hardness: float = 0.8,
    closest_candidates: int = 20,
    skip_closest: int = 1,
    generator: torch.Generator | None = None,
) -> Hallucinated:
    """`num_positives` hallucinated positives per anchor (N, D) from prototypes (P, D), no gradient.

    Targets are drawn uniformly with replacement from the prototypes ranked `skip_closest` …
    `skip_closest + closest_candidates − 1` by similarity to the anchor (the official
    `skip_closest_positives` = 1 and `num_closest_to_ignore_positives` = 20: with 20 prototypes, every one
    but p₀). Computed in float32 with autocast off: in bfloat16, t* was off by up to 5e-3 [measured].
    """
    with torch.autocast(anchors.device.type, enabled=False):
        return _hallucinate(
            anchors.detach().float(),
            prototypes.detach().float(),
            num_positives=num_positives,
            hardness=hardness,
            closest_candidates=closest_candidates,
            skip_closest=skip_closest,
            generator=generator,
        )


def _hallucinate(
    anchors: Tensor,
    prototypes: Tensor,
    *,
    num_positives: int,
    hardness: float,
    closest_candidates: int,
    skip_closest: int,
    generator: torch.Generator | None,
) -> Hallucinated:
    check_hardness(hardness)
    num_prototypes = prototypes.shape[0]
    candidates = min(closest_candidates, num_prototypes - skip_closest)
    if num_positives < 1 or skip_closest < 1 or candidates < 1:
        raise ConfigError(
            f"need num_positives >= 1, skip_closest >= 1 and a candidate left among {num_prototypes} "
            f"prototypes (skip_closest {skip_closest}, closest_candidates {closest_candidates})"
        )
    ranked = (anchors @ prototypes.t()).argsort(dim=1, descending=True)  # (N, P)
    own = ranked[:, 0]
    draw = _uniform(generator, (anchors.shape[0], num_positives), anchors.device, anchors.dtype)
    pick = (draw * candidates).long().clamp_max(candidates - 1) + skip_closest
    target = ranked.gather(1, pick)  # (N, S)
    z = anchors[:, None, :].expand(-1, num_positives, -1)
    p_own, p_target = prototypes[own][:, None, :].expand_as(z), prototypes[target]
    boundary = boundary_step(z, p_own, p_target)
    steps = sample_steps(boundary, hardness, generator)
    positives = F.normalize(slerp(z, p_target, steps), dim=-1)
    return Hallucinated(positives, rank_filter(positives, prototypes, own), steps, boundary, own, target)


def rank_filter(positives: Tensor, prototypes: Tensor, own: Tensor) -> Tensor:
    """(N, S) mask: a positive is kept iff its most similar prototype among all is the anchor's own."""
    return ((positives @ prototypes.t()).argmax(dim=-1) == own[:, None]).detach()


def halp_loss(
    query: Tensor,
    positives: Tensor,
    keep: Tensor,
    temperature: float,
    *,
    form: Literal["alignment", "infonce"] = "alignment",
    queue: Tensor | None = None,
    num_kept: Tensor | float | None = None,
) -> Tensor:
    """L_HaLP over the kept (anchor, positive) pairs of the batch, normalised by their global count.

    "alignment" (the official code, default): −Σ q·ĝ / τ / (|G| + 1e-8), no negatives. "infonce": each
    kept pair as an InfoNCE term against the queue's negatives, −log(e^{q·ĝ/τ} / (e^{q·ĝ/τ} + Σ e^{q·n/τ})),
    the form the paper may mean [unverified]. `num_kept` replaces |G| (under DDP: the count over all ranks
    divided by the world size, so the averaged gradients equal the single-process ones).
    """
    if form not in LOSS_FORMS:
        raise ConfigError(f"unknown HaLP loss form {form!r}; choose one of {', '.join(LOSS_FORMS)}")
    if form == "infonce" and queue is None:
        raise ConfigError("the infonce form of the HaLP loss needs the queue of negatives")
    with torch.autocast(query.device.type, enabled=False):  # float32, as the InfoNCE logits
        query = query.float()
        similarity = torch.einsum("nd,nsd->ns", query, positives.float()) / temperature
        if form == "alignment":
            per_pair = -similarity
        else:
            assert queue is not None
            negatives = torch.logsumexp(query @ queue.float().t() / temperature, dim=1, keepdim=True)
            per_pair = torch.logaddexp(similarity, negatives) - similarity
        kept = keep.to(per_pair.dtype)
        count = kept.sum() if num_kept is None else num_kept
        return (per_pair * kept).sum() / (count + EPS)


def _uniform(
    generator: torch.Generator | None, shape: tuple[int, ...], device: torch.device, dtype: torch.dtype
) -> Tensor:
    """U(0, 1) drawn where the generator lives (a CPU generator serves any device), then moved."""
    where = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=where, dtype=torch.float32).to(device, dtype)
