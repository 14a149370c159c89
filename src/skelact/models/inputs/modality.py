"""Modality features (joint, bone, skip, and their motions) computed batched in torch on the device.

Differentiable and exportable: only static (configuration) control flow, no data-dependent branches.
Choices (specs/formats-and-preprocessing.md):

- bone = joint - bone parent (``layout.parents``); the root is its own parent, so its bone is zero (spec 1.1).
- skip (BRL's ``k``, specs/brl.md section 3) = joint - grandparent; zero for the root and for joints whose
  parent is the root, as in BRL's pair tables.
- motion = x[t + 1] - x[t], last frame zero. PYSKL computes motion on the full sequence before frame
  sampling (spec 4.2 item 3); we compute it on the sampled clip after augmentation, as CTR-GCN does (spec 4.1
  item 5), so it runs batched on the device and sees the augmented coordinates.
- Missing (all-zero) joints give zero features: a bone needs both ends, a motion both frames. The references
  do not mask, which turns a joint appearing or disappearing into a spurious jump; ``mask_missing=False``
  subtracts anyway, as they do (PSUMNet's ``official_quirks``).
- With a score channel (2D + score, spec 1.4), the bone and motion score is the mean of the two scores used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.skeleton.layout import Layout, get_layout

MODALITIES: tuple[str, ...] = ("j", "b", "jm", "bm", "k", "km")
MODALITY_ALIASES: dict[str, str] = {
    "joint": "j",
    "bone": "b",
    "joint_motion": "jm",
    "bone_motion": "bm",
    "skip": "k",
    "skip_motion": "km",
}


def skip_references(layout: Layout) -> tuple[int, ...]:
    """Grandparent of every joint, or the joint itself where its parent is the root (a zero skip)."""
    parents = layout.parents
    return tuple(j if parents[p] == p else parents[p] for j, p in enumerate(parents))


def parse_modality(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Canonical modality names from ``"j"``, ``"j,b"``, ``"joint, bone_motion"`` or a list of names.

    Names are separated by commas (so ``"jb"`` is rejected rather than guessed); order is kept and decides the
    channel order; repeats and unknown names raise ConfigError.
    """
    items = [spec] if isinstance(spec, str) else list(spec)
    names = [part.strip().lower().replace("-", "_") for item in items for part in str(item).split(",")]
    names = [n for n in names if n]
    if not names:
        raise ConfigError(f"empty modality {spec!r}", hint=f"use one or more of {', '.join(MODALITIES)}")
    result: list[str] = []
    for name in names:
        canonical = MODALITY_ALIASES.get(name, name)
        if canonical not in MODALITIES:
            valid = ", ".join([*MODALITIES, *MODALITY_ALIASES])
            raise ConfigError(
                f"unknown modality {name!r} in {spec!r}", hint=f"valid names (comma-separated): {valid}"
            )
        if canonical in result:
            raise ConfigError(f"modality {canonical!r} is listed twice in {spec!r}")
        result.append(canonical)
    return tuple(result)


class ModalityFeatures(nn.Module):
    """(N, M, T, V, C) -> (N, M, T, V, C * k): the requested features concatenated on channels, in order.

    C = `num_coords` (+1 if `score_channel`, the score being the last channel). `mask_missing` zeroes a bone
    or motion where one of its two ends is a missing (all-zero) joint; off, both are plain differences.
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        modality: str | Sequence[str] = ("j",),
        num_coords: int = 3,
        score_channel: bool = False,
        mask_missing: bool = True,
    ) -> None:
        super().__init__()
        if num_coords not in (2, 3):
            raise ConfigError(f"num_coords must be 2 or 3, got {num_coords}")
        self.layout = get_layout(layout)
        self.modality = parse_modality(modality)
        self.num_coords = num_coords
        self.score_channel = score_channel
        self.mask_missing = mask_missing
        self.register_buffer("parents", torch.tensor(self.layout.parents, dtype=torch.long), persistent=False)
        skip = torch.tensor(skip_references(self.layout), dtype=torch.long)
        self.register_buffer("skip_refs", skip, persistent=False)

    @property
    def in_channels(self) -> int:
        return self.num_coords + int(self.score_channel)

    def out_channels(self, in_channels: int | None = None) -> int:
        return (self.in_channels if in_channels is None else in_channels) * len(self.modality)

    def _difference(self, a: Tensor, b: Tensor, valid: Tensor | None) -> Tensor:
        """a - b on coordinates and the mean on the score channel, zero where `valid` is 0 (if given)."""
        c = self.num_coords
        out = a[..., :c] - b[..., :c]
        if self.score_channel:
            out = torch.cat([out, (a[..., c:] + b[..., c:]) * 0.5], dim=-1)
        return out if valid is None else out * valid

    def _bone(self, x: Tensor, present: Tensor | None, refs: Tensor) -> tuple[Tensor, Tensor | None]:
        valid = None if present is None else present * present.index_select(3, refs)
        return self._difference(x, x.index_select(3, refs), valid), valid

    def _motion(self, x: Tensor, present: Tensor | None) -> Tensor:
        valid = None if present is None else present[:, :, 1:] * present[:, :, :-1]
        moved = self._difference(x[:, :, 1:], x[:, :, :-1], valid)
        return torch.cat([moved, torch.zeros_like(x[:, :, :1])], dim=2)

    def forward(self, x: Tensor) -> Tensor:
        # Shape check in eager mode only: under tracing, sizes are tensors and the check would be baked in.
        if not torch.jit.is_tracing() and (
            x.dim() != 5 or x.shape[-1] != self.in_channels or x.shape[3] != self.layout.num_joints
        ):
            raise FormatError(
                f"expected (N, M, T, {self.layout.num_joints}, {self.in_channels}), got {tuple(x.shape)}",
                where="modality features",
            )
        # A joint is present when any coordinate is non-zero (a sum of the mask exports more widely than any).
        present = None
        if self.mask_missing:
            present = ((x[..., : self.num_coords] != 0).to(x.dtype).sum(dim=-1, keepdim=True) > 0).to(x.dtype)
        features: dict[str, Tensor] = {"j": x}
        if "b" in self.modality or "bm" in self.modality:
            features["b"], bone_valid = self._bone(x, present, self.parents)
            if "bm" in self.modality:
                features["bm"] = self._motion(features["b"], bone_valid)
        if "jm" in self.modality:
            features["jm"] = self._motion(x, present)
        if "k" in self.modality or "km" in self.modality:
            features["k"], skip_valid = self._bone(x, present, self.skip_refs)
            if "km" in self.modality:
                features["km"] = self._motion(features["k"], skip_valid)
        return torch.cat([features[name] for name in self.modality], dim=-1)

    def extra_repr(self) -> str:
        return (
            f"layout={self.layout.name}, modality={','.join(self.modality)}, num_coords={self.num_coords}, "
            f"score_channel={self.score_channel}, mask_missing={self.mask_missing}"
        )
