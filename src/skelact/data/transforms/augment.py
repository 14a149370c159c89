"""Batched skeleton augmentation in torch, run on the training device (DESIGN.md: nearly free there).

Input is a batch (N, M, T, V, C) of any float dtype on any device. The first `num_coords` channels are
coordinates (2 or 3); a trailing channel (a pose score) is never changed numerically, only moved with its
joint by a flip. Missing (all-zero) joints stay exactly zero: every geometric op is linear, noise is masked.
Each random op draws per-sample parameters from an optional `torch.Generator`; draws happen on the
generator's device and are copied to the batch's, so a CPU generator gives the same augmentation on any
device (a generator on the batch's device avoids the copy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.skeleton.layout import Layout, get_layout

Angle = float | Sequence[float]


def _check_batch(x: Tensor) -> None:
    if x.dim() != 5:
        raise FormatError(
            f"expected a batch (N, M, T, V, C), got shape {tuple(x.shape)}", where="augmentation"
        )
    if not x.is_floating_point():
        raise FormatError(f"augmentation needs a float tensor, got {x.dtype}", where="augmentation")


def _coords(x: Tensor, num_coords: int | None) -> int:
    """Validate the batch and return how many leading channels are coordinates (all of them by default)."""
    _check_batch(x)
    c = x.shape[-1] if num_coords is None else num_coords
    if c not in (2, 3) or c > x.shape[-1]:
        raise ConfigError(
            f"num_coords must be 2 or 3 and at most the {x.shape[-1]} channels, got {num_coords}"
        )
    return c


def _compute_dtype(x: Tensor) -> torch.dtype:
    """Draws and matrices in float32 (float64 for float64 input), so half/bfloat16 batches stay accurate."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _rand(
    shape: tuple[int, ...], x: Tensor, generator: torch.Generator | None, normal: bool = False
) -> Tensor:
    device = generator.device if generator is not None else x.device
    draw = torch.randn if normal else torch.rand
    out = draw(shape, generator=generator, device=device, dtype=_compute_dtype(x))
    return out.to(x.device)


def _uniform(
    shape: tuple[int, ...], bound: Tensor | float, x: Tensor, generator: torch.Generator | None
) -> Tensor:
    """U(-bound, bound), `bound` broadcast against the last axis."""
    return (_rand(shape, x, generator) * 2.0 - 1.0) * bound


def _transform(x: Tensor, matrices: Tensor, c: int) -> Tensor:
    """Apply one (c, c) matrix per sample to the coordinates: p' = A p for every joint of every frame."""
    n = x.shape[0]
    coords = x[..., :c].to(matrices.dtype).reshape(n, -1, c)
    moved = torch.bmm(coords, matrices.transpose(1, 2)).reshape(*x.shape[:-1], c).to(x.dtype)
    return torch.cat([moved, x[..., c:]], dim=-1)


def _bounds(value: Angle, c: int, x: Tensor, what: str) -> Tensor:
    values = [float(value)] * c if isinstance(value, (int, float)) else [float(v) for v in value]
    if len(values) != c or min(values) < 0:
        raise ConfigError(f"{what} must be a non-negative number or {c} of them, got {value!r}")
    return torch.tensor(values, dtype=_compute_dtype(x), device=x.device)


def rotation_matrices(angles: Tensor) -> Tensor:
    """(N, 3) angles about x, y, z -> (N, 3, 3) matrices Rz @ Ry @ Rx (CTR-GCN/PYSKL order, spec 4.1)."""
    cos, sin = angles.cos(), angles.sin()
    one, zero = torch.ones_like(cos[:, 0]), torch.zeros_like(cos[:, 0])

    def matrix(*rows: Tensor) -> Tensor:
        return torch.stack(rows, dim=-1).reshape(-1, 3, 3)

    (cx, cy, cz), (sx, sy, sz) = cos.unbind(1), sin.unbind(1)
    rx = matrix(one, zero, zero, zero, cx, -sx, zero, sx, cx)
    ry = matrix(cy, zero, sy, zero, one, zero, -sy, zero, cy)
    rz = matrix(cz, -sz, zero, sz, cz, zero, zero, zero, one)
    return rz @ ry @ rx


def random_rotate(
    x: Tensor, max_angle: Angle, *, num_coords: int | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """Rotate each sample by its own random rotation, identical for all its persons and frames.

    3D: angles U(-theta, theta) about x, y, z (`max_angle` one number or (theta_x, theta_y, theta_z), radians;
    CTR-GCN/PYSKL use 0.3), combined as Rz @ Ry @ Rx. CTR-GCN writes its matrices with the opposite sign of
    sine; with symmetric angle ranges the distribution is the same.
    2D: one in-plane angle U(-theta_z, theta_z). (PYSKL's 2D RandomRot draws U(-theta, 1.0), a bug we do not
    reproduce.)
    """
    c = _coords(x, num_coords)
    bound = _bounds(max_angle, 3, x, "max_angle")
    n = x.shape[0]
    if c == 3:
        return _transform(x, rotation_matrices(_uniform((n, 3), bound, x, generator)), c)
    angle = _uniform((n,), bound[2], x, generator)
    cos, sin = angle.cos(), angle.sin()
    return _transform(x, torch.stack([cos, -sin, sin, cos], dim=-1).reshape(n, 2, 2), c)


def random_scale(
    x: Tensor,
    max_delta: Angle = 0.1,
    *,
    num_coords: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Multiply each axis by its own factor 1 + U(-delta, delta), per sample (PYSKL RandomScale: 0.1)."""
    c = _coords(x, num_coords)
    factors = 1.0 + _uniform((x.shape[0], c), _bounds(max_delta, c, x, "max_delta"), x, generator)
    return _transform(x, torch.diag_embed(factors), c)


def random_shear(
    x: Tensor, max_shear: float, *, num_coords: int | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """Shear: 1 on the diagonal, U(-s, s) off it, one matrix per sample (HaLP uses s = 1, specs/halp.md)."""
    c = _coords(x, num_coords)
    if max_shear < 0:
        raise ConfigError(f"max_shear must be non-negative, got {max_shear}")
    eye = torch.eye(c, dtype=_compute_dtype(x), device=x.device)
    offdiag = _uniform((x.shape[0], c, c), float(max_shear), x, generator) * (1.0 - eye)
    return _transform(x, eye + offdiag, c)


def random_flip(
    x: Tensor,
    layout: Layout,
    p: float = 0.5,
    *,
    mirror: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    """With probability `p` per sample, swap left/right joints (``layout.flip_permutation()``), negate x.

    The score channel moves with its joint. ``mirror=False`` only swaps joint identities, as BRL's
    Spatial_Flip does (specs/brl.md), which is not a geometric mirror.
    """
    _check_batch(x)
    if x.shape[3] != layout.num_joints:
        raise LayoutError(
            f"random_flip: batch has {x.shape[3]} joints, layout {layout.name!r} {layout.num_joints}"
        )
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"flip probability must be in [0, 1], got {p}")
    perm = torch.as_tensor(layout.flip_permutation(), device=x.device)
    flipped = x.index_select(3, perm)
    if mirror:
        sign = torch.ones(x.shape[-1], dtype=x.dtype, device=x.device)
        sign[0] = -1
        flipped = flipped * sign
    chosen = _rand((x.shape[0],), x, generator) < p
    return torch.where(chosen.view(-1, 1, 1, 1, 1), flipped, x)


def gaussian_noise(
    x: Tensor, std: float, *, num_coords: int | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """Add N(0, std^2) to the coordinates of present joints only."""
    c = _coords(x, num_coords)
    coords = x[..., :c]
    present = (coords != 0).any(dim=-1, keepdim=True)
    noise = (_rand(tuple(coords.shape), x, generator, normal=True) * std).to(x.dtype)
    return torch.cat([coords + noise * present, x[..., c:]], dim=-1)


def joint_drop(
    x: Tensor, p: float, *, whole_sequence: bool = False, generator: torch.Generator | None = None
) -> Tensor:
    """Zero each joint of each person and frame with probability `p` (in every frame if `whole_sequence`).

    A dropped joint is missing, so its score channel is zeroed too.
    """
    _check_batch(x)
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"joint_drop probability must be in [0, 1], got {p}")
    n, m, t, v, _ = x.shape
    keep = _rand((n, m, 1 if whole_sequence else t, v, 1), x, generator) >= p
    return x * keep.to(x.dtype)


def temporal_reverse(x: Tensor, p: float = 0.5, *, generator: torch.Generator | None = None) -> Tensor:
    """With probability `p` per sample, play the clip backwards, label unchanged (BRL's unreleased Temporal
    Reverse Perception, specs/brl.md 5.3 [unverified]). Motion features, computed after augmentation,
    change sign accordingly. Time-asymmetric pairs (sit down / stand up) are not relabelled."""
    _check_batch(x)
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"reverse probability must be in [0, 1], got {p}")
    chosen = _rand((x.shape[0],), x, generator) < p
    return torch.where(chosen.view(-1, 1, 1, 1, 1), x.flip(2), x)


def _enabled(value: Angle) -> bool:
    return any(float(v) > 0 for v in (value if isinstance(value, Sequence) else [value]))


class AugmentOp:
    """One augmentation of `BatchAugment`: the config option `key` sets it (0, the default, disables it),
    `options` are its secondary settings with their defaults, and `__call__` applies it to a batch.

    `probability` ops take a value in [0, 1]; `bounded` ones any non-negative value; the others (per-axis
    ranges) are checked by their function when applied.
    """

    key: ClassVar[str]
    options: ClassVar[Mapping[str, Any]] = {}
    probability: ClassVar[bool] = False
    bounded: ClassVar[bool] = False

    def __init__(self, value: Any, *, layout: Layout, num_coords: int, **options: Any) -> None:
        self.value, self.layout, self.num_coords = value, layout, num_coords
        self.settings = {**self.options, **options}

    @classmethod
    def check(cls, value: Any) -> None:
        if (cls.bounded or cls.probability) and (value < 0 or (cls.probability and value > 1)):
            raise ConfigError(f"augmentation {cls.key}={value} is out of range")

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        raise NotImplementedError


class ScaleOp(AugmentOp):
    key = "scale"

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return random_scale(x, self.value, num_coords=self.num_coords, generator=generator)


class ShearOp(AugmentOp):
    key = "shear"
    bounded = True

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return random_shear(x, self.value, num_coords=self.num_coords, generator=generator)


class RotateOp(AugmentOp):
    key = "rotate"

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return random_rotate(x, self.value, num_coords=self.num_coords, generator=generator)


class FlipOp(AugmentOp):
    key = "flip"
    options = {"flip_mirror": True}
    probability = True

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        mirror = self.settings["flip_mirror"]
        return random_flip(x, self.layout, self.value, mirror=mirror, generator=generator)


class NoiseOp(AugmentOp):
    key = "noise"
    bounded = True

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return gaussian_noise(x, self.value, num_coords=self.num_coords, generator=generator)


class JointDropOp(AugmentOp):
    key = "joint_drop"
    probability = True

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return joint_drop(x, self.value, generator=generator)


class ReverseOp(AugmentOp):
    key = "reverse"
    probability = True

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return temporal_reverse(x, self.value, generator=generator)


# The augmentations by config key, in the order they are applied: scale, shear, rotate (PYSKL/BRL:
# RandomScale then RandomRot), flip (BRL flips after rotating), then noise and joint drop, so that no
# geometric op moves noise or resurrects a dropped joint; temporal reversal (off by default) comes last, so
# enabling it leaves the other ops' draws unchanged. Adding an op is one `AugmentOp` subclass and its entry
# here; it goes where its draws disturb no existing config: last.
AUGMENT_OPS: dict[str, type[AugmentOp]] = {
    op.key: op for op in (ScaleOp, ShearOp, RotateOp, FlipOp, NoiseOp, JointDropOp, ReverseOp)
}


class BatchAugment(nn.Module):
    """The enabled augmentations of `AUGMENT_OPS`, applied in its order, in training mode only.

    Settings are keyword arguments named by the ops' keys and options (``rotate=0.3, flip=0.5``), readable
    back as attributes; a value of 0 disables an op. Build from a config dict with `from_config`.
    """

    ORDER = tuple(AUGMENT_OPS)

    def __init__(
        self, layout: Layout | str | Mapping[str, Any], num_coords: int = 3, **settings: Any
    ) -> None:
        super().__init__()
        if num_coords not in (2, 3):
            raise ConfigError(f"num_coords must be 2 or 3, got {num_coords}")
        defaults = {key: 0.0 for key in AUGMENT_OPS}
        for op in AUGMENT_OPS.values():
            defaults.update(op.options)
        if unknown := sorted(set(settings) - set(defaults)):
            known = sorted({"num_coords", *defaults})
            raise ConfigError(f"unknown augmentation option(s) {unknown}", hint=f"known: {', '.join(known)}")
        settings = {**defaults, **settings}
        for op in AUGMENT_OPS.values():
            op.check(settings[op.key])
        self.layout = get_layout(layout)
        self.num_coords = num_coords
        for name, value in settings.items():
            setattr(self, name, value)

    @classmethod
    def from_config(
        cls, layout: Layout | str | Mapping[str, Any], config: Mapping[str, Any] | None
    ) -> BatchAugment:
        """Build from a plain dict such as ``{"rotate": 0.3, "scale": 0.1}``; unknown keys: ConfigError."""
        return cls(layout, **dict(config or {}))

    @property
    def ops(self) -> list[AugmentOp]:
        """The enabled ops in order, from the current settings (so changing an attribute takes effect)."""
        return [
            op(
                getattr(self, key),
                layout=self.layout,
                num_coords=self.num_coords,
                **{option: getattr(self, option) for option in op.options},
            )
            for key, op in AUGMENT_OPS.items()
            if _enabled(getattr(self, key))
        ]

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if not self.training:
            return x
        for op in self.ops:
            x = op(x, generator)
        return x

    def extra_repr(self) -> str:
        enabled = [f"{op.key}={op.value}" for op in self.ops]
        return f"layout={self.layout.name}, num_coords={self.num_coords}, " + (
            ", ".join(enabled) or "identity"
        )
