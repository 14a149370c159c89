"""What every graph backbone shares: input checks, the data BatchNorm, folding persons into the batch,
pooling and the classification head (the timm-like `forward_features` / `forward_head` contract)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.models.heads import ClassificationHead
from skelact.skeleton import Layout, get_layout

DataBN = bool | Literal["MVC", "VC"]


def check_batch(x: Tensor, layout: Layout, name: str) -> tuple[int, int]:
    """(persons, channels) of an (N, M, T, V, C) batch whose joints are `layout`'s; one clear error else."""
    if x.ndim != 5:
        raise FormatError(f"expected a batch (N, M, T, V, C), got shape {tuple(x.shape)}", where=name)
    _, m, _, v, c = x.shape
    if v != layout.num_joints:
        raise LayoutError(
            f"{name} built for layout {layout.name!r} with {layout.num_joints} joints "
            f"got {v} joints (input shape {tuple(x.shape)})"
        )
    return m, c


class ClassifierHeadMixin:
    """The classification half of the timm-like contract, for any backbone module with `forward_features`:
    `_build_head` sets `num_features` and `head` (the names every checkpoint's keys use), `forward_head` maps
    pooled features to logits, `forward` chains the two, and `reset_classifier` swaps the head.

    Listed before `nn.Module` among the bases, so its `forward` is the module's.
    """

    # The sample modalities `forward` reads (`skelact.data.modalities`): keypoints only, for every model
    # so far; a multi-modal model lists more, and its method loads them and records them in checkpoints.
    inputs: ClassVar[tuple[str, ...]] = ("keypoint",)
    num_features: int
    head: nn.Module
    forward_features: Callable[[Tensor], Tensor]

    def _build_head(self, num_features: int, num_classes: int, dropout: float) -> None:
        self.num_features = num_features
        self.head = ClassificationHead(num_features, num_classes, dropout)

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    def reset_classifier(self, num_classes: int, dropout: float = 0.0) -> None:
        """Replace the head (fine-tuning, linear probing) and keep the trunk."""
        self.head = ClassificationHead(self.num_features, num_classes, dropout)

    def forward_head(self, features: Tensor) -> Tensor:
        return self.head(features)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))


class GraphBackbone(ClassifierHeadMixin, nn.Module):
    """Base class: subclasses build `self.blocks` ((N*M, C, T, V) -> (N*M, F, T', V)) and call `_build_head`.

    `forward(x)` maps (N, M, T, V, C) to logits (N, num_classes); `forward_features` gives the pooled
    (N, num_features) embedding (mean over frames and joints, then over persons, as PYSKL's GCNHead and
    CTR-GCN pool); `forward_head` maps it to logits. Absent (all-zero) persons count in that mean, as in
    both codebases.

    `data_bn`: True or "MVC" normalises each (person, joint, coordinate) channel separately (ST-GCN,
    CTR-GCN; ties the model to `num_persons`); "VC" shares statistics across persons (PYSKL's default);
    False: none.
    """

    blocks: nn.Module

    def __init__(self, layout: Layout | str, in_channels: int, num_persons: int, data_bn: DataBN) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        self.in_channels = in_channels
        self.num_persons = num_persons
        num_joints = self.layout.num_joints
        bn_mode = "MVC" if data_bn is True else data_bn
        if bn_mode == "MVC":
            self.data_bn: nn.Module = nn.BatchNorm1d(num_persons * num_joints * in_channels)
        elif bn_mode == "VC":
            self.data_bn = nn.BatchNorm1d(num_joints * in_channels)
        elif bn_mode is False:
            self.data_bn = nn.Identity()
        else:
            raise ConfigError(
                f"{type(self).__name__}: data_bn must be True, False, 'MVC' or 'VC', got {data_bn!r}"
            )
        self.data_bn_mode: str | None = bn_mode or None

    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        m, c = check_batch(x, self.layout, name)
        if c != self.in_channels:
            raise FormatError(f"expected {self.in_channels} channels, got shape {tuple(x.shape)}", where=name)
        if self.data_bn_mode == "MVC" and m != self.num_persons:
            raise FormatError(
                f"expected {self.num_persons} persons (data_bn='MVC'), got shape {tuple(x.shape)}",
                where=name,
                hint="pad or crop persons to num_persons, or build the model with data_bn='VC'",
            )

    def _fold_persons(self, x: Tensor) -> Tensor:
        """(N, M, T, V, C) -> data BN -> (N*M, C, T, V): persons join the batch once, here.

        The result is contiguous (N, C, T, V). Channels-last memory would make this fold free, but on 2 CPU
        cores the whole model was not clearly faster that way (within measurement noise, at most ~10 %), and
        every later layer would have to avoid `.view`; the input is small (C = 3), so two copies cost little.
        """
        n, m, t, v, c = x.shape
        if self.data_bn_mode is None:
            return x.permute(0, 1, 4, 2, 3).reshape(n * m, c, t, v)
        groups = n if self.data_bn_mode == "MVC" else n * m
        x = self.data_bn(x.permute(0, 1, 3, 4, 2).reshape(groups, -1, t))  # channels ordered (M,) V, C
        return x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)

    def forward_features(self, x: Tensor) -> Tensor:
        self._check_input(x)
        n, m = x.shape[:2]
        y = self.blocks(self._fold_persons(x))
        return y.mean(dim=(2, 3)).view(n, m, -1).mean(dim=1)

    def forward_sequence(self, x: Tensor) -> Tensor:
        """(N, M, T, V, C) → (N, T', num_features): the blocks' output pooled over joints and then persons
        only, so time is kept (T' = T over the blocks' temporal strides); the per-frame features of
        multi-modal models (`skelact.models.temporal`)."""
        self._check_input(x)
        n, m = x.shape[:2]
        y = self.blocks(self._fold_persons(x)).mean(dim=3)  # (N*M, F, T')
        return y.view(n, m, *y.shape[1:]).mean(dim=1).transpose(1, 2)
