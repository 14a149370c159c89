"""The SkeletonMAE encoder (Yan et al., ICCV 2023; specs/skeletonmae.md sections 4, 7) as a backbone.

Each frame of each person is a graph of V joints: a per-joint linear embedding lifts the coordinates to D = 64
features, then a 3-layer GIN (`skelact.models.layers.gin`) on the layout's graph gives D_h = D features per
joint [design choice: D_h = D, so the encoder fits inside every STRL layer]. All frame-graphs of a batch go
through each layer in one batched product (no loop over frames or persons).

As a classifier (`forward_features` → head) the joint features are averaged over joints, frames and persons:
that pooled vector is what the linear and k-NN protocols read from a pre-trained encoder (skelact's
protocols; the paper only fine-tunes, inside STRL, `skelact.models.backbones.strl`). The pre-training
method (`skelact.methods.skeletonmae`) uses `embed_joints` and `encode` around its [MASK] token.

Confidence scores are not a feature (spec section 4): only the first `coords` input channels are embedded.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.models.backbones.base import ClassifierHeadMixin, check_batch
from skelact.models.layers.gin import GroupedGIN
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout, get_layout

# The encoder options STRL must share with a pre-trained encoder to load it.
ENCODER_ARGS = ("coords", "embed_dim", "gin_hidden", "gin_layers")


def embedded_coords(in_channels: int, coords: int | None) -> int:
    """Input channels the joint embedding reads: `coords` (the coordinates before a score) or all."""
    used = in_channels if coords is None else coords
    if not 1 <= used <= in_channels:
        raise ConfigError(f"coords must be in 1..{in_channels} (the input channels), got {coords}")
    return used


class SkeletonMAEEncoder(ClassifierHeadMixin, nn.Module):
    """(N, M, T, V, C) → per-joint embedding (D) → GIN encoder per frame-graph → pooled (N, D) → head.

    Args:
        layout, in_channels, num_classes, num_persons: the registry's common arguments.
        coords: leading input channels to embed (2 for x, y with a score channel after them); None: all.
        embed_dim: D, the joint embedding and the encoder's output width (64 in the paper).
        gin_hidden: width of every GIN layer's MLP (unspecified in the paper; 64).
        gin_layers: L_D, GIN layers of the encoder (3, the paper's best).
        dropout: on each GIN layer's input (GraphMAE's in_drop: 0.2).
        head_dropout: before the classification head.
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
        dropout: float = 0.2,
        head_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        self.in_channels = in_channels
        self.num_persons = num_persons
        self.coords = embedded_coords(in_channels, coords)
        self.embed = nn.Linear(self.coords, embed_dim)
        self.encoder = GroupedGIN(self.layout, embed_dim, gin_hidden, embed_dim, gin_layers, 1, dropout)
        self._build_head(embed_dim, num_classes, head_dropout)

    def _check(self, x: Tensor) -> None:
        _, c = check_batch(x, self.layout, type(self).__name__)
        if c != self.in_channels:
            raise FormatError(
                f"expected {self.in_channels} channels, got shape {tuple(x.shape)}", where=type(self).__name__
            )

    def embed_joints(self, x: Tensor) -> Tensor:
        """(N, M, T, V, C) → (N, M, T, V, D): the coordinates of each joint, embedded."""
        self._check(x)
        return self.embed(x[..., : self.coords])

    def encode(self, h: Tensor) -> Tensor:
        """(..., V, D) embedded (or masked) joints → (..., V, D) encoder features, every graph at once."""
        v, d = h.shape[-2:]
        return self.encoder(h.reshape(1, -1, v, d)).view(h.shape)

    def forward_features(self, x: Tensor) -> Tensor:
        h = self.encode(self.embed_joints(x))  # (N, M, T, V, D)
        return h.mean(dim=(2, 3)).mean(dim=1)


@register_model("skeletonmae")
@builds(SkeletonMAEEncoder)
def skeletonmae(**kwargs: Any) -> SkeletonMAEEncoder:
    """The SkeletonMAE GIN encoder with pooled features (linear / k-NN probes of a pre-training).

    coco17, 2 coordinates, D = 64, 3 GIN layers of width 64: 25,926 parameters before the head.
    """
    return SkeletonMAEEncoder(**kwargs)
