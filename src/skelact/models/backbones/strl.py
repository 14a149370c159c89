"""STRL, SkeletonMAE's fine-tuning network (Yan et al., ICCV 2023; specs/skeletonmae.md sections 10-11).

The paper describes it briefly (its supplementary D, with the details, is not available), so most of this is
[design choice], each listed in docs/methods/skeletonmae.md:

1. Input: each joint's coordinates embedded to D = 64 (the pre-trained embedding) plus a learnable temporal
   position embedding (one D-vector per frame, up to `max_frames`, N(0, 0.02)).
2. M = `num_layers` STRL layers (3, the paper's best). Spatial modelling, per frame and person:
   SM(H) = Repeat_V(SumPool_V(G_E(H))) + H, where G_E is a copy of the pre-trained SkeletonMAE GIN encoder,
   one copy per person (the persons run as groups of one batched GIN, `GroupedGIN`) and per layer, all
   initialised from the same checkpoint; its sum aggregation over A + I is the "prior knowledge" graph Ã; ⊕
   is a sum. Then H ← ReLU(BN(SM·W) + BN(H·R)): W the paper's trainable map, R the 1×1 residual of its
   Fig. 3b (both per-joint linear maps), each followed by a BatchNorm as in GCN blocks (without them the
   joint sum-pool made training diverge on NW-UCLA at lr 0.1).
3. After each layer a multi-scale temporal convolution (CTR-GCN's `MultiScaleTemporalConv`, kernel 5,
   dilations 1 and 2) with an identity residual and ReLU: the paper names no temporal operator; these are
   the blocks of CTR-GCN / InfoGCN, from which the recipe comes.
4. Multi-scale temporal pooling: joints and persons averaged, then the frames averaged within 1, 2 and 4
   equal segments and concatenated (7·D), an MLP layer (Linear → ReLU, `mlp_hidden`) and the class head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.models.backbones.base import ClassifierHeadMixin, check_batch
from skelact.models.backbones.skeletonmae import embedded_coords
from skelact.models.layers import MultiScaleTemporalConv
from skelact.models.layers.gin import GroupedGIN
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout, get_layout


class STRLLayer(nn.Module):
    """(G persons, N·T, V, D) → spatial modelling with the per-person encoders → (G, N·T, V, D)."""

    def __init__(self, layout: Layout, dim: int, gin_hidden: int, gin_layers: int, groups: int) -> None:
        super().__init__()
        self.encoder = GroupedGIN(layout, dim, gin_hidden, dim, gin_layers, groups, dropout=0.0)
        self.update = nn.Linear(dim, dim)  # W^(l)
        self.residual = nn.Linear(dim, dim)  # the 1x1 residual of Fig. 3b
        # BatchNorm on both branches, as GCN blocks do (CTR-GCN's unit and its 1x1 residual unit): the joint
        # sum-pool adds V times the encoder's scale at every layer, and without them training diverges.
        self.update_bn = nn.BatchNorm1d(dim)
        self.residual_bn = nn.BatchNorm1d(dim)

    def forward(self, h: Tensor) -> Tensor:
        sm = self.encoder(h).sum(dim=2, keepdim=True) + h  # sum-pool over joints, repeated to every joint
        d = h.shape[-1]
        update = self.update_bn(self.update(sm).reshape(-1, d))
        residual = self.residual_bn(self.residual(h).reshape(-1, d))
        return F.relu(update + residual).view(h.shape)


class STRL(ClassifierHeadMixin, nn.Module):
    """The STRL network: (N, M, T, V, C) → logits. See the module docstring.

    Args:
        layout, in_channels, num_classes, num_persons: the registry's common arguments; the persons are the
            encoder copies of each layer (2 in the paper).
        coords, embed_dim, gin_hidden, gin_layers: the SkeletonMAE encoder's options (`skeletonmae`); they
            must equal the pre-training's to load it.
        num_layers: M, the STRL layers (3).
        max_frames: frames the temporal position embedding covers (64 in the paper's setting).
        pool_scales: segments of the multi-scale temporal pooling.
        mlp_hidden: width of the MLP before the class head (its features for probes).
        temporal_kernel: kernel of the multi-scale temporal convolution (5, CTR-GCN).
        dropout: on the MLP features, before the head.
    """

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        coords: int | None = None,
        embed_dim: int = 64,
        gin_hidden: int = 64,
        gin_layers: int = 3,
        num_layers: int = 3,
        max_frames: int = 64,
        pool_scales: Sequence[int] = (1, 2, 4),
        mlp_hidden: int = 256,
        temporal_kernel: int = 5,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if num_layers < 1 or max_frames < 1 or not pool_scales or min(pool_scales) < 1:
            raise ConfigError(
                f"STRL needs num_layers >= 1, max_frames >= 1 and positive pool_scales, got {num_layers}, "
                f"{max_frames}, {list(pool_scales)}"
            )
        self.layout = get_layout(layout)
        self.in_channels = in_channels
        self.num_persons = num_persons
        self.coords = embedded_coords(in_channels, coords)
        self.pool_scales = tuple(int(s) for s in pool_scales)
        self.embed = nn.Linear(self.coords, embed_dim)
        self.pos_embed = nn.Parameter(torch.randn(max_frames, embed_dim) * 0.02)
        self.layers = nn.ModuleList(
            STRLLayer(self.layout, embed_dim, gin_hidden, gin_layers, num_persons) for _ in range(num_layers)
        )
        self.temporal = nn.ModuleList(
            MultiScaleTemporalConv(embed_dim, embed_dim, kernel_size=temporal_kernel)
            for _ in range(num_layers)
        )
        pooled = embed_dim * sum(self.pool_scales)
        self.mlp = nn.Sequential(nn.Linear(pooled, mlp_hidden), nn.ReLU(inplace=True))
        self._build_head(mlp_hidden, num_classes, dropout)

    def _check(self, x: Tensor) -> None:
        m, c = check_batch(x, self.layout, type(self).__name__)
        t = x.shape[2]
        if c != self.in_channels or m != self.num_persons or t > self.pos_embed.shape[0]:
            raise FormatError(
                f"expected {self.num_persons} persons, at most {self.pos_embed.shape[0]} frames and "
                f"{self.in_channels} channels, got shape {tuple(x.shape)}",
                where=type(self).__name__,
                hint="pad or crop persons to num_persons; raise model_args.max_frames for longer clips",
            )

    def forward_features(self, x: Tensor) -> Tensor:
        self._check(x)
        n, m, t, v, _ = x.shape
        h = self.embed(x[..., : self.coords]) + self.pos_embed[:t, None, :]  # (N, M, T, V, D)
        d = h.shape[-1]
        h = h.transpose(0, 1).reshape(m, n * t, v, d)  # persons are the encoders' groups
        for layer, temporal in zip(self.layers, self.temporal, strict=True):
            h = layer(h)
            y = h.view(m, n, t, v, d).permute(1, 0, 4, 2, 3).reshape(n * m, d, t, v)
            y = F.relu(temporal(y) + y)
            h = y.view(n, m, d, t, v).permute(1, 0, 3, 4, 2).reshape(m, n * t, v, d)
        frames = h.view(m, n, t, v, d).mean(dim=(0, 3)).transpose(1, 2)  # (N, D, T)
        pooled = torch.cat([F.adaptive_avg_pool1d(frames, s).flatten(1) for s in self.pool_scales], dim=1)
        return self.mlp(pooled)

    @torch.no_grad()
    def load_skeletonmae_encoder(self, state: Mapping[str, Tensor]) -> None:
        """Load a `SkeletonMAEEncoder`'s embedding and GIN encoder (its state_dict, head or not) into the
        embedding and into every layer's every person copy, bit for bit."""
        embed = {k.removeprefix("embed."): v for k, v in state.items() if k.startswith("embed.")}
        encoder = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}
        try:
            self.embed.load_state_dict(embed)
        except RuntimeError as err:
            raise ConfigError(f"the pre-trained joint embedding does not fit STRL's: {err}") from None
        for layer in self.layers:
            layer.encoder.load_into_groups(encoder)


@register_model("strl")
@builds(STRL)
def strl(**kwargs: Any) -> STRL:
    """SkeletonMAE's STRL fine-tuning network (3 STRL layers, D = 64, MLP 256).

    Parameters: 335,712 on coco17 2D with 2 persons and 60 classes (the encoder copies: 3 layers x 2
    persons); 245,724 on kinect20 3D with 1 person and 10 classes.

    Train it with `--method strl` to start its encoders from a SkeletonMAE pre-training
    (`skelact.methods.strl`), or as any model (`--model.model strl`) from random initialisation.
    """
    return STRL(**kwargs)
