"""M-Mixer's Multi-modal Contextualization Unit (MCU): a GRU over one modality's feature sequence that takes
a fixed cross-modal content vector g (specs/mmixer.md section 5.3).

The paper's gate equations could not be read; this is the spec's GRU-derived cell [design choice]:

- ``input_mix`` (default): a selection gate s_t = σ(W_s [x_t; g] + b_s) decides per channel how much of the
  content to inject, u_t = x_t + s_t ⊙ (W_c g), and a GRU step runs on u_t;
- ``gate_conditioned``: x_t is left unmixed and V g (no bias) is added to the reset, update and candidate
  pre-activations, so the other modalities modulate what is remembered;
- ``gru``: g is ignored, a plain GRU (the spec's "g ≡ 0" ablation);
- ``concat_gru``: a plain GRU on [x_t; g] (the spec's "MCU replaced by a GRU on the concatenation").

The GRU step is `torch.nn.GRUCell`'s exactly (gate order r, z, n; candidate tanh(W_n u + b_n + r ⊙ (U_n h +
b_hn)); h' = (1 - z) ⊙ n + z ⊙ h), so with g = 0 every variant is a GRUCell with the same weights. The spec
writes the candidate as U_n (r ⊙ h) and the update with z and 1 - z swapped: the same family of cells,
parametrised as torch does. W_c and V have no bias, so g = 0 injects exactly nothing.

Only the recurrence loops over time: the input-side pre-activations of all frames are computed at once
before it, and each step is one matrix product and a few element-wise operations.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError

MCUVariant = Literal["input_mix", "gate_conditioned", "gru", "concat_gru"]
MCU_VARIANTS: tuple[str, ...] = ("input_mix", "gate_conditioned", "gru", "concat_gru")
InitialState = Literal["zero", "tanh"]
Readout = Literal["last", "mean"]


class MCU(nn.Module):
    """(B, T, dim) sequence and (B, dim) content → (B, hidden) state.

    Args:
        dim: width of the sequence and of the content vector.
        hidden: state width D_h.
        variant: how the content enters (module docstring).
        initial_state: "zero" (h_0 = 0) or "tanh" (h_0 = tanh(W_0 g)).
        readout: "last" (h_T) or "mean" (mean of h_1..h_T).
    """

    def __init__(
        self,
        dim: int,
        hidden: int,
        variant: MCUVariant = "input_mix",
        initial_state: InitialState = "zero",
        readout: Readout = "last",
    ) -> None:
        super().__init__()
        if variant not in MCU_VARIANTS:
            raise ConfigError(f"unknown MCU variant {variant!r}; choose one of {', '.join(MCU_VARIANTS)}")
        if initial_state not in ("zero", "tanh"):
            raise ConfigError(f"MCU initial_state must be 'zero' or 'tanh', got {initial_state!r}")
        if readout not in ("last", "mean"):
            raise ConfigError(f"MCU readout must be 'last' or 'mean', got {readout!r}")
        self.variant, self.initial_state, self.readout = variant, initial_state, readout
        self.hidden = hidden
        self.ih = nn.Linear(2 * dim if variant == "concat_gru" else dim, 3 * hidden)
        self.hh = nn.Linear(hidden, 3 * hidden)
        if variant == "input_mix":
            self.select = nn.Linear(2 * dim, dim)
            self.inject = nn.Linear(dim, dim, bias=False)
        elif variant == "gate_conditioned":
            self.condition = nn.Linear(dim, 3 * hidden, bias=False)
        if initial_state == "tanh":
            self.init_state = nn.Linear(dim, hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GRU initialisation (uniform ±1/sqrt(hidden)) for the recurrent weights, as torch's GRUCell."""
        bound = self.hidden**-0.5
        for layer in (self.ih, self.hh):
            nn.init.uniform_(layer.weight, -bound, bound)
            nn.init.uniform_(layer.bias, -bound, bound)

    @property
    def uses_content(self) -> bool:
        return self.variant != "gru" or self.initial_state == "tanh"

    def input_gates(self, x: Tensor, g: Tensor) -> Tensor:
        """(B, T, 3 hidden): the input-side pre-activations of every frame, before the recurrence."""
        if self.variant == "gru":
            return self.ih(x)
        if self.variant == "concat_gru":
            return self.ih(torch.cat([x, g.unsqueeze(1).expand_as(x)], dim=-1))
        if self.variant == "gate_conditioned":
            return self.ih(x) + self.condition(g).unsqueeze(1)
        select = torch.sigmoid(self.select(torch.cat([x, g.unsqueeze(1).expand_as(x)], dim=-1)))
        return self.ih(x + select * self.inject(g).unsqueeze(1))

    def forward(self, x: Tensor, g: Tensor) -> Tensor:
        gates = self.input_gates(x, g)
        h = self.hidden
        gates_rz, gates_n = gates[..., : 2 * h], gates[..., 2 * h :]
        zero = self.initial_state == "zero"
        state = x.new_zeros(x.shape[0], h) if zero else torch.tanh(self.init_state(g))
        weight, bias = self.hh.weight.t(), self.hh.bias
        total = torch.zeros_like(state) if self.readout == "mean" else None
        for t in range(x.shape[1]):
            recurrent = torch.addmm(bias, state, weight)
            r, z = torch.sigmoid(gates_rz[:, t] + recurrent[:, : 2 * h]).chunk(2, dim=1)
            candidate = torch.tanh(gates_n[:, t] + r * recurrent[:, 2 * h :])
            state = candidate + z * (state - candidate)
            if total is not None:
                total = total + state
        return state if total is None else total / x.shape[1]

    def extra_repr(self) -> str:
        return f"variant={self.variant}, initial_state={self.initial_state}, readout={self.readout}"
