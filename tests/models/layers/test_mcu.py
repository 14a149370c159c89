"""M-Mixer's MCU: with g ≡ 0 it is torch's GRUCell with the same weights; the content does change it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from skelact.errors import ConfigError
from skelact.models.layers.mcu import MCU


def gru_cell_like(mcu: MCU, dim: int, hidden: int) -> nn.GRUCell:
    cell = nn.GRUCell(dim, hidden)
    with torch.no_grad():
        cell.weight_ih.copy_(mcu.ih.weight[:, :dim])
        cell.bias_ih.copy_(mcu.ih.bias)
        cell.weight_hh.copy_(mcu.hh.weight)
        cell.bias_hh.copy_(mcu.hh.bias)
    return cell


def run_cell(cell: nn.GRUCell, x: torch.Tensor, hidden: int) -> list[torch.Tensor]:
    h = torch.zeros(x.shape[0], hidden)
    states = []
    for t in range(x.shape[1]):
        h = cell(x[:, t], h)
        states.append(h)
    return states


@pytest.mark.parametrize("variant", ["input_mix", "gate_conditioned", "gru", "concat_gru"])
def test_with_zero_content_every_variant_is_a_gru_cell(variant: str) -> None:
    torch.manual_seed(0)
    dim, hidden = 6, 5
    mcu = MCU(dim, hidden, variant)
    x, g = torch.randn(3, 7, dim), torch.zeros(3, dim)
    states = run_cell(gru_cell_like(mcu, dim, hidden), x, hidden)
    torch.testing.assert_close(mcu(x, g), states[-1], rtol=0, atol=1e-6)
    mean = MCU(dim, hidden, variant, readout="mean")
    mean.load_state_dict(mcu.state_dict())
    torch.testing.assert_close(mean(x, g), torch.stack(states).mean(0), rtol=0, atol=1e-6)


def test_the_gru_ablation_ignores_the_content_and_the_mcu_uses_it() -> None:
    torch.manual_seed(0)
    x, g = torch.randn(2, 5, 4), torch.randn(2, 4)
    gru = MCU(4, 4, "gru")
    torch.testing.assert_close(gru(x, g), gru(x, torch.zeros_like(g)))
    assert not gru.uses_content
    for variant in ("input_mix", "gate_conditioned", "concat_gru"):
        mcu = MCU(4, 4, variant)
        assert not torch.allclose(mcu(x, g), mcu(x, torch.zeros_like(g)))


def test_the_tanh_initial_state_comes_from_the_content() -> None:
    torch.manual_seed(0)
    mcu = MCU(4, 3, "gru", initial_state="tanh")
    g = torch.randn(2, 4)
    x = torch.randn(2, 0, 4)  # no step: the state is h_0
    torch.testing.assert_close(mcu(x, g), torch.tanh(mcu.init_state(g)))
    assert mcu.uses_content


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown MCU variant"):
        MCU(4, 4, "lstm")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="readout"):
        MCU(4, 4, readout="max")  # type: ignore[arg-type]
