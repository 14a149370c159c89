"""The encoder of contrastive pre-training: input features → backbone trunk → projection head.

MoCo and HaLP train `ContrastiveEncoder`s built from a `PipelineRecord` by `build_input_model`, the same
function prediction and the evaluation protocols use, so a pre-trained trunk always loads into the network
a record describes. The backbone's classification head is replaced by an identity (pre-training has no
classes; an unused head would also stall DDP's gradient reduction); the projection head maps the trunk's
features to the contrastive embedding.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.inference.pipeline import InputModel


class ProjectionHead(nn.Module):
    """features → embedding: one linear layer, or with `hidden` an MLP Linear → ReLU → Linear (MoCo v2).

    As the official ISC/CMD/HaLP code: the layer into the embedding is Xavier-uniform initialised, the
    hidden layer keeps PyTorch's default init (specs/halp.md §4.1; there 2048 → 2048 → 128).
    """

    def __init__(self, in_features: int, dim: int, hidden: int | None = None) -> None:
        super().__init__()
        out = nn.Linear(hidden or in_features, dim)
        nn.init.xavier_uniform_(out.weight)
        layers: list[nn.Module] = [nn.Linear(in_features, hidden), nn.ReLU(inplace=True)] if hidden else []
        self.layers = nn.Sequential(*layers, out)

    def forward(self, features: Tensor) -> Tensor:
        return self.layers(features)


def drop_classifier(backbone: nn.Module) -> nn.Module:
    """Replace the backbone's classification head (`head`, the registry models' convention) by an identity,
    so `forward_features` is the only path and no parameter goes without a gradient."""
    if not isinstance(getattr(backbone, "head", None), nn.Module) or not hasattr(
        backbone, "forward_features"
    ):
        raise ConfigError(
            f"backbone {type(backbone).__name__} cannot be pre-trained contrastively: it needs "
            "forward_features() and a `head` module (skelact.models.backbones.base)"
        )
    backbone.head = nn.Identity()
    return backbone


class ContrastiveEncoder(nn.Module):
    """Raw keypoints (N, M, T, V, C) → trunk features (N, F) → projection (N, dim)."""

    def __init__(self, net: InputModel, dim: int, mlp_hidden: int | None) -> None:
        super().__init__()
        self.features = net.features
        self.backbone = drop_classifier(net.backbone)
        self.num_features = int(self.backbone.num_features)
        self.projector = ProjectionHead(self.num_features, dim, mlp_hidden)

    def trunk(self, keypoint: Tensor) -> Tensor:
        return self.backbone.forward_features(self.features(keypoint))

    def forward(self, keypoint: Tensor) -> Tensor:
        return self.projector(self.trunk(keypoint))


@torch.no_grad()
def momentum_update(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """θ_target ← m·θ_target + (1 − m)·θ_source for every parameter (MoCo's key encoder, m = 0.999).

    Buffers (BatchNorm statistics) are not averaged: the key encoder's own forward passes update them, as in
    the official code.
    """
    targets, sources = _parameters(target), _parameters(source)
    if len(targets) != len(sources):
        raise ConfigError("the key and query encoders differ in their parameters")
    torch._foreach_lerp_(targets, sources, 1.0 - momentum)


def _parameters(module: nn.Module) -> list[Tensor]:
    params: Iterable[Tensor] = module.parameters()
    return [p.data for p in params]
