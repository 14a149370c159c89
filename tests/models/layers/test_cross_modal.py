"""Cross-modal action content: CFEM's mask really hides a modality's own tokens (zero gradient), the
include-own switch shows them; the WACV projection reads the other modalities' means only."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError
from skelact.models.layers.cross_modal import CFEM, MeanContent


def sequences(lengths: tuple[int, ...], dim: int = 16) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(2, t, dim, generator=generator, requires_grad=True) for t in lengths]


def own_gradient(module: torch.nn.Module, seqs: list[torch.Tensor], m: int) -> list[torch.Tensor]:
    """Gradients of modality m's content w.r.t. every modality's tokens."""
    out = module(seqs)
    return list(torch.autograd.grad(out[:, m].square().sum(), seqs, allow_unused=False))


@pytest.mark.parametrize("num_queries", [1, 4])
def test_cfem_hides_the_own_modality_exactly(num_queries: int) -> None:
    torch.manual_seed(0)
    cfem = CFEM(3, 16, num_queries=num_queries, layers=2, heads=8)
    seqs = sequences((5, 3, 4))
    for m in range(3):
        grads = own_gradient(cfem, seqs, m)
        assert torch.count_nonzero(grads[m]) == 0
        assert all(grads[n].abs().sum() > 0 for n in range(3) if n != m)


def test_the_include_own_switch_shows_the_own_modality() -> None:
    torch.manual_seed(0)
    cfem = CFEM(2, 16, keys="all")
    seqs = sequences((4, 6))
    grads = own_gradient(cfem, seqs, 0)
    assert grads[0].abs().sum() > 0 and grads[1].abs().sum() > 0


def test_self_content_sees_only_the_own_modality() -> None:
    torch.manual_seed(0)
    seqs = sequences((4, 6))
    for module in (CFEM(2, 16, keys="own"), MeanContent(2, 16, source="self")):
        grads = own_gradient(module, seqs, 1)
        assert torch.count_nonzero(grads[0]) == 0 and grads[1].abs().sum() > 0


def test_wacv_content_projects_the_other_modalities_means() -> None:
    torch.manual_seed(0)
    content = MeanContent(3, 16)
    seqs = sequences((5, 3, 4))
    out = content(seqs)
    assert out.shape == (2, 3, 16)
    others = torch.cat([seqs[0].mean(1), seqs[2].mean(1)], dim=-1)
    torch.testing.assert_close(out[:, 1], others @ content.weight[1] + content.bias[1])
    grads = own_gradient(content, seqs, 2)
    assert torch.count_nonzero(grads[2]) == 0 and grads[0].abs().sum() > 0


def test_cross_content_needs_two_modalities_and_heads_divide_the_width() -> None:
    with pytest.raises(ConfigError, match="at least two"):
        MeanContent(1, 16)
    with pytest.raises(ConfigError, match="at least two"):
        CFEM(1, 16)
    with pytest.raises(ConfigError, match="divisible"):
        CFEM(2, 12, heads=8)
