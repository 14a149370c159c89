"""BRL's rebalanced partial mixup (specs/brl.md section 5.2), on the device batch of model inputs.

A few samples of the batch (ratio 1/16: one at batch 16) are rebuilt from their own upper body and a random
partner's lower body, over all persons and frames, on whatever features the model is fed (j, b, ...). The
label is shared Remix-style with a rule that favours the rarer class: with n_a, n_b the training sizes of
the sample's and the partner's class, λ = 0 if n_a > κ·n_b (the label goes to the rare partner), λ = 1 if
n_b > κ·n_a, else λ = `lam` (0.64 = 16/25, the upper body's share of NTU's joints).

Body halves come from the layout's ``upper`` and ``lower`` parts. Corrected behaviour by default: joints stay
in their places, λ is per sample, and every chosen sample mixes (the official code permutes the joint order
by concatenating the two halves, uses one λ per batch and skips entries when mixing more than one sample).
`preserve_joint_order=False` reproduces the official permuted order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, LayoutError
from skelact.skeleton.layout import Layout, get_layout


class PartialMixup(nn.Module):
    """`forward(x, labels, counts)` → (mixed x, partner labels, per-sample λ); see the module docstring.

    Unmixed samples come back unchanged with partner label = own label and λ = 1.
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        ratio: float = 1 / 16,
        lam: float = 0.64,
        kappa: float = 3.0,
        preserve_joint_order: bool = True,
        upper: str = "upper",
        lower: str = "lower",
    ) -> None:
        super().__init__()
        if not 0.0 <= ratio <= 1.0 or not 0.0 <= lam <= 1.0 or kappa < 1.0:
            raise ConfigError(f"need 0 <= ratio <= 1, 0 <= lam <= 1, kappa >= 1; got {ratio}, {lam}, {kappa}")
        self.layout = get_layout(layout)
        up, low = self.layout.part(upper), self.layout.part(lower)
        if set(up) & set(low):
            raise LayoutError(f"layout {self.layout.name!r}: parts {upper!r} and {lower!r} share joints")
        if not preserve_joint_order and len(up) + len(low) != self.layout.num_joints:
            raise LayoutError(
                f"the permuted (official) order needs {upper!r} and {lower!r} to cover all "
                f"{self.layout.num_joints} joints of {self.layout.name!r}"
            )
        self.ratio, self.lam, self.kappa = ratio, lam, kappa
        self.preserve_joint_order = preserve_joint_order
        from_partner = torch.zeros(self.layout.num_joints, dtype=torch.bool)
        from_partner[list(low)] = True
        self.register_buffer("from_partner", from_partner, persistent=False)
        self.register_buffer("permuted", torch.tensor([*up, *low]), persistent=False)

    def num_mixed(self, batch: int) -> int:
        """round(ratio · N), at least one when ratio > 0 and the batch has a partner to offer."""
        if batch < 2 or self.ratio == 0:
            return 0
        return max(1, round(self.ratio * batch))

    def forward(
        self, x: Tensor, labels: Tensor, counts: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        n = x.shape[0]
        lam = torch.ones(n, dtype=torch.float32, device=x.device)
        k = self.num_mixed(n)
        if not self.training or k == 0:
            return x, labels, lam
        device = generator.device if generator is not None else x.device
        chosen = torch.randperm(n, generator=generator, device=device)[:k].to(x.device)
        offset = torch.randint(1, n, (k,), generator=generator, device=device).to(x.device)
        partner = (chosen + offset) % n  # uniform over the rest of the batch
        own, other = x[chosen], x[partner]
        if self.preserve_joint_order:
            mixed = torch.where(self.from_partner.view(1, 1, 1, -1, 1), other, own)
        else:
            mixed = torch.cat([own, other], dim=3)[:, :, :, self._permuted_take(x.shape[3])]
        out = x.clone()
        out[chosen] = mixed
        labels_b = labels.clone()
        labels_b[chosen] = labels[partner]
        n_a, n_b = counts[labels[chosen]].float(), counts[labels[partner]].float()
        rule = torch.full_like(n_a, self.lam)
        rule = torch.where(n_b > self.kappa * n_a, torch.ones_like(rule), rule)
        rule = torch.where(n_a > self.kappa * n_b, torch.zeros_like(rule), rule)
        lam[chosen] = rule
        return out, labels_b, lam

    def _permuted_take(self, v: int) -> Tensor:
        """Positions in cat(own, other) that give own[upper] followed by other[lower] (official order)."""
        up = self.permuted[: v - int(self.from_partner.sum())]
        low = self.permuted[len(up) :] + v
        return torch.cat([up, low])

    def extra_repr(self) -> str:
        return (
            f"layout={self.layout.name}, ratio={self.ratio}, lam={self.lam}, kappa={self.kappa}, "
            f"preserve_joint_order={self.preserve_joint_order}"
        )
