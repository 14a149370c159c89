"""Cross-modal action content for M-Mixer (specs/mmixer.md section 5.2): one vector g_m per modality m,
computed from the other modalities' feature sequences (or from its own, for the ablation).

- `MeanContent`, the WACV variant [design choice]: a_n = mean_t x_{n,t}; g_m = φ_m([a_n]_{n≠m}), φ_m a
  Linear D·(M−1) → D per modality, optionally followed by a nonlinearity. ``source="self"``: g_m = φ_m(a_m).
- `CFEM`, the extended variant: each modality owns K learnable queries; the feature bank is every modality's
  tokens (M·T' of them, lengths may differ per modality) plus a learnable modality embedding and a temporal
  embedding; N_c pre-LN decoder layers (self-attention among one modality's own queries, cross-attention to
  the bank, a 4× FFN, residuals); g_m = mean of its K output queries. An attention mask restricts modality m's
  keys to the modalities n ≠ m (``keys="others"``, the "complementary" part), or lets them see all tokens
  (``"all"``, the include-own switch) or only its own (``"own"``, self content).

The temporal embedding is a learnable table of ``temporal_bins`` positions resampled (linear interpolation)
to each modality's length [design choice]: encoders keep different T' (a GCN T/4, the heatmap trunk T/2),
and a token's embedding then says *when* in the clip it is, not its index.

Everything is vectorised over modalities and queries: one attention call per layer serves all of them.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from skelact.errors import ConfigError

ContentSource = Literal["cross", "self"]
CFEMKeys = Literal["others", "all", "own"]
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "none": nn.Identity,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
}


class MeanContent(nn.Module):
    """[(B, T'_m, D)] × M → (B, M, D): per-modality projections of the temporal means (WACV)."""

    def __init__(
        self, num_modalities: int, dim: int, source: ContentSource = "cross", activation: str = "none"
    ):
        super().__init__()
        if source not in ("cross", "self"):
            raise ConfigError(f"action content source must be 'cross' or 'self', got {source!r}")
        if activation not in ACTIVATIONS:
            known = ", ".join(ACTIVATIONS)
            raise ConfigError(f"unknown content activation {activation!r}; choose one of {known}")
        m = num_modalities
        if source == "cross" and m < 2:
            raise ConfigError("cross-modal content needs at least two modalities", hint="use content: self")
        others = [[n for n in range(m) if n != k] for k in range(m)]
        sources = others if source == "cross" else [[k] for k in range(m)]
        self.register_buffer("sources", torch.tensor(sources, dtype=torch.long), persistent=False)
        fan_in = dim * len(sources[0])
        bound = fan_in**-0.5  # nn.Linear's initialisation, per modality
        self.weight = nn.Parameter(torch.empty(m, fan_in, dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(m, dim).uniform_(-bound, bound))
        self.activation = ACTIVATIONS[activation]()

    def forward(self, sequences: list[Tensor]) -> Tensor:
        means = torch.stack([s.mean(dim=1) for s in sequences], dim=1)  # (B, M, D)
        gathered = means[:, self.sources].flatten(2)  # (B, M, k·D)
        return self.activation(torch.einsum("bmi,mio->bmo", gathered, self.weight) + self.bias)


class CFEMLayer(nn.Module):
    """One pre-LN decoder layer over all modalities' queries at once; masks come from `CFEM`."""

    def __init__(self, dim: int, heads: int, self_attention: bool, ffn_ratio: int = 4, dropout: float = 0.0):
        super().__init__()
        self.self_attention = self_attention
        if self_attention:
            self.norm_self = nn.LayerNorm(dim)
            self.attn_self = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm_query = nn.LayerNorm(dim)
        self.norm_bank = nn.LayerNorm(dim)
        self.attn_cross = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm_ffn = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, ffn_ratio * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn_ratio * dim, dim)
        )

    def forward(self, queries: Tensor, bank: Tensor, cross_mask: Tensor | None, self_mask: Tensor) -> Tensor:
        if self.self_attention:
            h = self.norm_self(queries)
            queries = queries + self.attn_self(h, h, h, attn_mask=self_mask, need_weights=False)[0]
        h, kv = self.norm_query(queries), self.norm_bank(bank)
        queries = queries + self.attn_cross(h, kv, kv, attn_mask=cross_mask, need_weights=False)[0]
        return queries + self.ffn(self.norm_ffn(queries))


class CFEM(nn.Module):
    """[(B, T'_m, D)] × M → (B, M, D): the Complementary Feature Extraction Module (module docstring).

    Args:
        num_modalities, dim: M and D (D divisible by `heads`).
        num_queries: K learnable queries per modality.
        layers, heads: N_c decoder layers of `heads` attention heads.
        keys: "others" (default), "all" or "own": which modalities' tokens a modality's queries attend to.
        query_self_attention: each layer first lets a modality's K queries attend to each other (never to
            another modality's queries, which have seen its tokens).
        temporal_bins: size of the learnable temporal embedding table.
        dropout: attention and FFN dropout.
    """

    def __init__(
        self,
        num_modalities: int,
        dim: int,
        num_queries: int = 1,
        layers: int = 2,
        heads: int = 8,
        keys: CFEMKeys = "others",
        query_self_attention: bool = True,
        temporal_bins: int = 16,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if keys not in ("others", "all", "own"):
            raise ConfigError(f"CFEM keys must be 'others', 'all' or 'own', got {keys!r}")
        if keys == "others" and num_modalities < 2:
            raise ConfigError("CFEM restricted to the other modalities needs at least two modalities")
        if dim % heads:
            raise ConfigError(f"CFEM: the width {dim} is not divisible by {heads} heads")
        if num_queries < 1 or layers < 1 or temporal_bins < 1:
            raise ConfigError(
                f"CFEM: need num_queries, layers, temporal_bins >= 1; got {num_queries}, {layers}, "
                f"{temporal_bins}"
            )
        self.num_modalities, self.num_queries, self.keys = num_modalities, num_queries, keys
        self.queries = nn.Parameter(torch.randn(num_modalities * num_queries, dim) * 0.02)
        self.modality_embedding = nn.Parameter(torch.randn(num_modalities, dim) * 0.02)
        self.temporal_embedding = nn.Parameter(torch.randn(temporal_bins, dim) * 0.02)
        self.layers = nn.ModuleList(
            [CFEMLayer(dim, heads, query_self_attention, dropout=dropout) for _ in range(layers)]
        )
        self.norm = nn.LayerNorm(dim)
        owner = torch.arange(num_modalities).repeat_interleave(num_queries)
        # Additive mask, -inf = not attended. A float mask keeps eval mode off torch's fused self-attention
        # kernel, which ONNX cannot export; the cross-attention's mask is boolean (True = not attended).
        blocked = owner[:, None] != owner[None, :]
        self_mask = torch.zeros(blocked.shape).masked_fill(blocked, float("-inf"))
        self.register_buffer("self_mask", self_mask, persistent=False)
        self.register_buffer("query_owner", owner, persistent=False)

    def temporal(self, length: int) -> Tensor:
        """(length, D): the embedding table resampled to a sequence of `length` tokens."""
        table = self.temporal_embedding.t().unsqueeze(0)  # (1, D, bins)
        return F.interpolate(table, size=length, mode="linear", align_corners=False)[0].t()

    def bank(self, sequences: list[Tensor]) -> tuple[Tensor, Tensor]:
        """The feature bank (B, ΣT'_m, D) and each token's modality (ΣT'_m,)."""
        tokens = [s + self.modality_embedding[m] + self.temporal(s.shape[1]) for m, s in enumerate(sequences)]
        lengths = torch.tensor([s.shape[1] for s in sequences], device=self.queries.device)
        owner = torch.arange(len(sequences), device=self.queries.device).repeat_interleave(lengths)
        return torch.cat(tokens, dim=1), owner

    def key_mask(self, token_owner: Tensor) -> Tensor | None:
        """(M·K, ΣT'_m) boolean mask, True where a query may not look; None when it sees everything."""
        same = self.query_owner[:, None] == token_owner[None, :]
        return {"others": same, "own": ~same, "all": None}[self.keys]

    def forward(self, sequences: list[Tensor]) -> Tensor:
        if len(sequences) != self.num_modalities:
            raise ConfigError(f"CFEM built for {self.num_modalities} modalities got {len(sequences)}")
        bank, owner = self.bank(sequences)
        mask = self.key_mask(owner)
        queries = self.queries.unsqueeze(0).expand(bank.shape[0], -1, -1)
        for layer in self.layers:
            queries = layer(queries, bank, mask, self.self_mask)
        out = self.norm(queries).view(bank.shape[0], self.num_modalities, self.num_queries, -1)
        return out.mean(dim=2)
