"""M-Mixer (Lee et al., WACV 2023; extended with CFEM, arXiv 2311.12344) on temporal encoders.

specs/mmixer.md sections 5 and 8; docs/methods/mmixer.md names every design choice and its switch. Per
modality m: a temporal encoder (B, T'_m, D_m) → Linear + LayerNorm to D: x_m. The cross-modal action
content g_m (B, D) comes from the other modalities, by the WACV projection of their temporal means
(`extractor="wacv"`) or by CFEM's per-modality queries over the multi-modal feature bank (`"cfem"`). Each
modality's MCU (weights not shared) runs over x_m with g_m and gives y_m (B, D_h); the fused logits are a
linear layer, after dropout 0.5, on [y_1; ...; y_M]. Optional auxiliary per-modality heads on y_m add
``aux_weight`` × their mean cross-entropy to the loss (`auxiliary_loss`, called by the supervised method).

Ablations (spec section 8): ``mcu="gru"`` (g ≡ 0: a plain GRU per modality; no content is computed),
``mcu="concat_gru"``, ``content="self"`` (g_m from the modality's own features), ``extractor`` WACV vs CFEM,
``num_queries``, ``cfem_include_own``. Any number of modalities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.backbones.base import ClassifierHeadMixin
from skelact.models.layers.cross_modal import CFEM, ContentSource, MeanContent
from skelact.models.layers.mcu import MCU, InitialState, MCUVariant, Readout
from skelact.models.registry import builds, register_model
from skelact.models.temporal import EncoderSet, keypoint_context
from skelact.skeleton import Layout, get_layout

Extractor = Literal["wacv", "cfem"]


class MMixer(ClassifierHeadMixin, nn.Module):
    """Modality Mixer: per-modality encoders, cross-modal content, MCUs, fused head.

    Args:
        layout, in_channels, num_classes, num_persons: as every backbone (keypoint input: modality j).
        modalities: name → ``{"encoder": NAME, **options}`` (`skelact.models.temporal`); None: joint and
            bone ST-GCNs (`DEFAULT_MODALITIES`).
        num_coords: coordinates per joint (2 for 2D + score data).
        dim: D, the common width of the projected sequences and of g.
        hidden: D_h, the MCU state width (default: dim).
        extractor: "wacv" (projected temporal means) or "cfem".
        content: "cross" (from the other modalities) or "self" (from the modality itself; ablation).
        content_activation: nonlinearity after the WACV projection ("none", "relu", "tanh", "gelu").
        num_queries, cfem_layers, cfem_heads: CFEM's K, N_c and heads.
        cfem_include_own: CFEM's queries also see their own modality's tokens.
        cfem_query_self_attention: CFEM layers start with self-attention among one modality's queries.
        temporal_bins: CFEM's temporal embedding table size.
        mcu: "input_mix", "gate_conditioned", "gru" (g ≡ 0) or "concat_gru" (`skelact.models.layers.mcu`).
        initial_state: "zero" or "tanh" (h_0 = tanh(W_0 g)).
        readout: "last" (h_T) or "mean" over time.
        dropout: before the fused linear layer.
        aux_weight: λ of the auxiliary per-modality heads; 0 builds none.
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        modalities: Mapping[str, Mapping[str, Any]] | None = None,
        num_coords: int = 3,
        dim: int = 512,
        hidden: int | None = None,
        extractor: Extractor = "wacv",
        content: ContentSource = "cross",
        content_activation: str = "none",
        num_queries: int = 1,
        cfem_layers: int = 2,
        cfem_heads: int = 8,
        cfem_include_own: bool = False,
        cfem_query_self_attention: bool = True,
        temporal_bins: int = 16,
        mcu: MCUVariant = "input_mix",
        initial_state: InitialState = "zero",
        readout: Readout = "last",
        dropout: float = 0.5,
        aux_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        name = type(self).__name__
        context = keypoint_context(self.layout, in_channels, num_coords, num_persons, name)
        self.encoders = EncoderSet(modalities, context, name)
        self.inputs = self.encoders.reads
        num_modalities = len(self.encoders.names)
        hidden = dim if hidden is None else hidden
        if dim < 1 or hidden < 1 or aux_weight < 0:
            raise ConfigError(
                f"{name}: need dim, hidden >= 1, aux_weight >= 0; got {dim}, {hidden}, {aux_weight}"
            )
        if extractor not in ("wacv", "cfem"):
            raise ConfigError(f"{name}: extractor must be 'wacv' or 'cfem', got {extractor!r}")
        self.project = nn.ModuleList(
            [nn.Sequential(nn.Linear(d, dim), nn.LayerNorm(dim)) for d in self.encoders.out_dims]
        )
        cells = [MCU(dim, hidden, mcu, initial_state, readout) for _ in range(num_modalities)]
        self.mcus = nn.ModuleList(cells)
        self.content: nn.Module | None = None
        if self.mcus[0].uses_content:  # a plain GRU with a zero initial state reads no content: none is built
            if extractor == "wacv":
                self.content = MeanContent(num_modalities, dim, content, content_activation)
            else:
                keys = "own" if content == "self" else ("all" if cfem_include_own else "others")
                self.content = CFEM(
                    num_modalities,
                    dim,
                    num_queries=num_queries,
                    layers=cfem_layers,
                    heads=cfem_heads,
                    keys=keys,
                    query_self_attention=cfem_query_self_attention,
                    temporal_bins=temporal_bins,
                )
        self.aux_weight = float(aux_weight)
        self.aux_heads = nn.ModuleList(
            [nn.Linear(hidden, num_classes) for _ in range(num_modalities)] if aux_weight > 0 else []
        )
        self._aux_logits: Tensor | None = None
        self._build_head(num_modalities * hidden, num_classes, dropout)

    def modality_states(self, x: Tensor, **modalities: Tensor) -> Tensor:
        """(B, M, D_h): each modality's MCU output y_m."""
        encoded = self.encoders(x, modalities)
        sequences = [project(s) for project, s in zip(self.project, encoded, strict=True)]
        if self.content is None:
            content = sequences[0].new_zeros(sequences[0].shape[0], len(sequences), sequences[0].shape[-1])
        else:
            content = self.content(sequences)  # (B, M, D)
        states = [mcu(s, content[:, m]) for m, (mcu, s) in enumerate(zip(self.mcus, sequences, strict=True))]
        return torch.stack(states, dim=1)

    def forward_features(self, x: Tensor, **modalities: Tensor) -> Tensor:
        states = self.modality_states(x, **modalities)
        if self.aux_heads and self.training:
            self._aux_logits = torch.stack([head(states[:, m]) for m, head in enumerate(self.aux_heads)], 1)
        return states.flatten(1)

    def forward(self, x: Tensor, **modalities: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x, **modalities))

    def auxiliary_loss(self, label: Tensor) -> Tensor | None:
        """λ × the mean cross-entropy of the per-modality heads of the last training forward, or None."""
        logits, self._aux_logits = self._aux_logits, None
        if logits is None:
            return None
        per_modality = F.cross_entropy(logits.flatten(0, 1), label.repeat_interleave(logits.shape[1]))
        return self.aux_weight * per_modality


@register_model("mmixer")
@builds(MMixer)
def mmixer(**kwargs: Any) -> MMixer:
    """M-Mixer over any number of temporal encoders (WACV content by default; ``extractor="cfem"``)."""
    return MMixer(**kwargs)
