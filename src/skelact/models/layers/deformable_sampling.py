"""Trilinear sampling of a feature volume at points given in (t, y, x) voxel coordinates.

Why skelact's own sampler and not `torch.nn.functional.grid_sample`: for a 5-D input, `grid_sample` reads
the last grid axis as (x, y, z) = (W, H, T) in normalised [-1, 1] units, and deformable-attention code has
shipped with the grid stacked as (t, y, x) instead, which silently samples the transposed volume
(specs/deformable3d.md section 7: lucidrains/deformable-attention #6, Deformable-DETR #6). Here a point is
(t, y, x) in voxels, the order the volume's axes have, and the eight corner reads are explicit gathers, so
there is no convention to get wrong; it also exports to ONNX at opset 17, where GridSample is 4-D only.

Semantics: voxel centres at integer coordinates (``align_corners=True`` in grid_sample's terms); a point
outside the volume reads zeros from the missing corners (``padding_mode="zeros"``). At an integer point the
result is that voxel exactly, and the gradient with respect to the point is the forward difference.
"""

from __future__ import annotations

import torch
from torch import Tensor

from skelact.errors import FormatError


def sample_volume(volume: Tensor, points: Tensor) -> Tensor:
    """(B, C, T, H, W) volume, (B, P, 3) points as (t, y, x) voxel coordinates → (B, P, C) samples."""
    if volume.dim() != 5 or points.dim() != 3 or points.shape[-1] != 3 or points.shape[0] != volume.shape[0]:
        raise FormatError(
            f"expected a (B, C, T, H, W) volume and (B, P, 3) points, got {tuple(volume.shape)} and "
            f"{tuple(points.shape)}",
            where="sample_volume",
        )
    b, c, t, h, w = volume.shape
    flat = volume.reshape(b, c, t * h * w)
    points = points.float()  # positions in float32 even under bf16 autocast: bf16 keeps 8 bits of mantissa
    base = points.floor()
    frac = points - base  # the gradient flows through here; the corners are constants
    base = base.long()
    out = volume.new_zeros(b, c, points.shape[1])
    sizes = (t, h, w)
    for corner in range(8):
        steps = ((corner >> 2) & 1, (corner >> 1) & 1, corner & 1)  # (dt, dy, dx)
        weight = torch.ones_like(frac[..., 0])
        valid = torch.ones_like(weight, dtype=torch.bool)
        index = torch.zeros_like(base[..., 0])
        for axis, (step, size) in enumerate(zip(steps, sizes, strict=True)):
            at = base[..., axis] + step
            weight = weight * (frac[..., axis] if step else 1 - frac[..., axis])
            valid = valid & (at >= 0) & (at < size)
            index = index * size + at.clamp(0, size - 1)
        values = flat.gather(2, index.unsqueeze(1).expand(b, c, -1))
        out = out + values * (weight * valid.to(weight.dtype)).to(values.dtype).unsqueeze(1)
    return out.transpose(1, 2)


def reference_grid(
    shape: tuple[int, int, int], stride: tuple[int, int, int], device: torch.device | None = None
) -> Tensor:
    """(T', H', W', 3) integer (t, y, x) reference points: every `stride`-th voxel from the first, the voxels
    ``volume[:, :, ::st, ::sy, ::sx]`` reads, so zero offsets reproduce strided-grid sampling exactly."""
    axes = [
        torch.arange(0, size, step, device=device, dtype=torch.float32)
        for size, step in zip(shape, stride, strict=True)
    ]
    grid = torch.meshgrid(*axes, indexing="ij")
    return torch.stack(grid, dim=-1)
