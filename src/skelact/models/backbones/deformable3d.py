"""The 3D deformable cross-modal transformer (Kim, Ahn, Ko, ICCV 2023), skeleton-only by default.

specs/deformable3d.md section 4. Two streams meet only through two learnable cross-modal tokens [paper]:

- an appearance volume Z (B, C, T', H', W') from a pluggable builder (`deformable3d_volume`): rendered pose
  heatmaps through a light 3D CNN without video (section 5), or person crops through a ResNet-18 (``rgb``);
- pose tokens (B, M, T, V, C): Option A (default) a linear map of each joint's coordinates plus joint,
  person and frame embeddings; Option B (``pose_tokens="volume"``) also the volume sampled at the joint.

Each of the L blocks runs (a) 3D deformable attention with 3D token search over [cross; Z], (b) local
joint-stride attention over [cross; a window of joints], (c) temporal-stride attention over [cross; a set
of frames of one joint] (`models/layers/deformable_*`); the head reads the two final cross tokens,
concatenated (or summed), after a LayerNorm. ``use_volume`` / ``use_pose`` switch a stream off for the
single-modality ablations (the cross tokens then read one stream only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.models.backbones.base import ClassifierHeadMixin, check_batch
from skelact.models.backbones.deformable3d_volume import VOLUME_READS, build_volume
from skelact.models.inputs.heatmap import Plane
from skelact.models.inputs.raw_keypoints import check_raw_keypoint_channels
from skelact.models.layers.deformable_attention import DeformableAttention3D
from skelact.models.layers.deformable_sampling import sample_volume
from skelact.models.layers.deformable_stride import (
    JointGrouping,
    JointStrideAttention,
    TemporalStrideAttention,
    joint_windows,
)
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout, get_layout

PoseTokens = Literal["coords", "volume"]
Fusion = Literal["concat", "sum"]
PARTITIONS = ("alternate", "dilated", "chunked")


class Deformable3DBlock(nn.Module):
    """(a) 3D deformable attention, (b) joint-stride attention, (c) temporal-stride attention; each step is
    skipped when its stream is off."""

    def __init__(
        self,
        deformable: DeformableAttention3D | None,
        joint: JointStrideAttention | None,
        temporal: TemporalStrideAttention | None,
    ) -> None:
        super().__init__()
        self.deformable, self.joint, self.temporal = deformable, joint, temporal

    def forward(self, cross: Tensor, volume: Tensor | None, pose: Tensor | None) -> tuple[Tensor, ...]:
        if self.deformable is not None and volume is not None:
            cross, volume = self.deformable(cross, volume)
        if self.joint is not None and self.temporal is not None and pose is not None:
            cross, pose = self.joint(cross, pose)
            cross, pose = self.temporal(cross, pose)
        return cross, volume, pose


class Deformable3D(ClassifierHeadMixin, nn.Module):
    """(N, M, T, V, C) keypoints (+ the volume builder's modalities) → logits.

    Args:
        layout, in_channels, num_classes: as every backbone; `in_channels` is `num_coords`, + 1 with a score.
        num_persons: the most persons a clip holds (the person embedding's size).
        num_coords: 2 (image keypoints) or 3.
        volume: the appearance-volume builder: "heatmap" (skeleton only) or "rgb" (person crops, the
            ``rgb`` sample modality; Option A pose tokens only).
        dim, depth, heads, mlp_ratio: transformer width C, blocks L, attention heads, MLP ratio.
        size, sigma, limbs, padding, plane: the rendered heatmaps (`HeatmapVolume`).
        volume_width, volume_blocks, volume_temporal_stride, volume_frame_step: the heatmap encoder
            (`HeatmapAppearance`): width factor, blocks per stage, the last stage's time stride, and the
            frame step of the rendered clip.
        sample_stride: 3DTS reference-grid stride (t, y, x); N_s = N / (st·sy·sx).
        offset_range: largest offset (t, y, x) in voxels; default the stride.
        offset_groups: offset groups of 3DTS; default the number of heads.
        pose_tokens: "coords" (Option A) or "volume" (Option B, the volume sampled at each joint as well).
        joint_grouping: "chains" (windows along kinematic chains) or "parts" (the layout's body regions).
        joint_window, joint_stride: window size w and stride s_j along the chains.
        temporal_groups: s_t, the sets each joint's frames are split into.
        temporal_partition: "alternate" (dilated in even blocks, chunked in odd), "dilated" or "chunked".
        fusion: how the final cross tokens are combined: "concat" or "sum".
        use_volume, use_pose: the two streams (ablations switch one off).
        max_frames: the longest clip the frame embeddings cover.
        dropout: before the classifier.
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        num_coords: int = 3,
        volume: str = "heatmap",
        dim: int = 48,
        depth: int = 2,
        heads: int = 4,
        mlp_ratio: float = 2.0,
        size: int = 24,
        sigma: float = 0.6,
        limbs: bool = False,
        padding: float = 0.25,
        plane: Plane = "xy",
        volume_width: float = 0.25,
        volume_blocks: Sequence[int] = (1, 1),
        volume_temporal_stride: int = 1,
        volume_frame_step: int = 2,
        sample_stride: Sequence[int] = (2, 2, 2),
        offset_range: Sequence[float] | None = None,
        offset_groups: int | None = None,
        pose_tokens: PoseTokens = "coords",
        joint_grouping: JointGrouping = "chains",
        joint_window: int = 5,
        joint_stride: int = 3,
        temporal_groups: int = 2,
        temporal_partition: str = "alternate",
        fusion: Fusion = "concat",
        use_volume: bool = True,
        use_pose: bool = True,
        max_frames: int = 300,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        score_channel = check_raw_keypoint_channels("deformable3d", in_channels, num_coords)
        if pose_tokens not in ("coords", "volume") or fusion not in ("concat", "sum"):
            raise ConfigError(
                f"deformable3d: pose_tokens must be coords or volume, fusion concat or sum; got "
                f"{pose_tokens!r}, {fusion!r}"
            )
        if temporal_partition not in PARTITIONS:
            raise ConfigError(f"deformable3d: temporal_partition must be one of {PARTITIONS}")
        if not (use_volume or use_pose):
            raise ConfigError("deformable3d: use_volume and use_pose are both off; keep at least one stream")
        if pose_tokens == "volume" and volume == "rgb":
            raise ConfigError(
                "deformable3d: pose_tokens 'volume' samples the volume at the joints, whose places in the "
                "rgb crops the model does not know",
                hint="use pose_tokens coords with volume rgb",
            )
        if pose_tokens == "volume" and not (use_volume and use_pose):
            raise ConfigError("deformable3d: pose_tokens 'volume' samples the volume: needs both streams on")
        if depth < 1 or dim < 1 or max_frames < 1:
            raise ConfigError(
                f"deformable3d: need depth, dim and max_frames >= 1, got {depth}, {dim}, {max_frames}"
            )
        self.in_channels, self.num_persons, self.max_frames = in_channels, num_persons, max_frames
        self.pose_tokens, self.fusion = pose_tokens, fusion
        self.use_volume, self.use_pose = use_volume, use_pose
        self.inputs = VOLUME_READS.get(volume, ("keypoint",)) if use_volume else ("keypoint",)
        self.volume = None
        if use_volume:
            self.volume = build_volume(
                volume,
                layout=self.layout,
                num_coords=num_coords,
                score_channel=score_channel,
                dim=dim,
                size=size,
                sigma=sigma,
                limbs=limbs,
                padding=padding,
                plane=plane,
                width=volume_width,
                blocks=volume_blocks,
                temporal_stride=volume_temporal_stride,
                frame_step=volume_frame_step,
            )
            grid_h, grid_w = self.volume.grid
            self.volume_pos = nn.ParameterDict(
                {
                    "t": nn.Parameter(torch.zeros(max_frames, dim)),
                    "y": nn.Parameter(torch.zeros(grid_h, dim)),
                    "x": nn.Parameter(torch.zeros(grid_w, dim)),
                }
            )
        if use_pose:
            self.coord_embed = nn.Linear(in_channels, dim)
            self.joint_embed = nn.Parameter(torch.zeros(self.layout.num_joints, dim))
            self.person_embed = nn.Parameter(torch.zeros(num_persons, dim))
            self.frame_embed = nn.Parameter(torch.zeros(max_frames, dim))
            self.sampled_embed = nn.Linear(dim, dim) if pose_tokens == "volume" else None
            windows = joint_windows(self.layout, joint_grouping, joint_window, joint_stride)
        self.cross = nn.Parameter(torch.zeros(2, dim))  # c_rgb (reads the volume), c_pose
        blocks = []
        for k in range(depth):
            partition = (
                temporal_partition if temporal_partition != "alternate" else ("dilated", "chunked")[k % 2]
            )
            blocks.append(
                Deformable3DBlock(
                    DeformableAttention3D(dim, heads, sample_stride, offset_range, offset_groups, mlp_ratio)
                    if use_volume
                    else None,
                    JointStrideAttention(dim, heads, self.layout.num_joints, windows, mlp_ratio)
                    if use_pose
                    else None,
                    TemporalStrideAttention(dim, heads, temporal_groups, partition, mlp_ratio)
                    if use_pose
                    else None,
                )
            )
        self.blocks = nn.ModuleList(blocks)
        features = 2 * dim if fusion == "concat" else dim
        self.norm = nn.LayerNorm(features)
        self._build_head(features, num_classes, dropout)
        self._init_embeddings()

    def _init_embeddings(self) -> None:
        """Learned embeddings and the cross tokens start as small noise (ViT's std 0.02)."""
        tables = [self.cross]
        if self.use_volume:
            tables += list(self.volume_pos.values())
        if self.use_pose:
            tables += [self.joint_embed, self.person_embed, self.frame_embed]
        for table in tables:
            nn.init.trunc_normal_(table, std=0.02)

    def appearance(self, keypoint: Tensor, modalities: Mapping[str, Tensor]) -> Tensor:
        """(B, C, T', H', W') the volume builder's output."""
        assert self.volume is not None
        return self.volume(keypoint, modalities)

    def positioned(self, volume: Tensor) -> Tensor:
        """The volume plus its factorised (t, y, x) position embedding."""
        t = volume.shape[2]
        pos = self.volume_pos
        embedding = pos["t"][:t, None, None] + pos["y"][None, :, None] + pos["x"][None, None, :]
        return volume + embedding.permute(3, 0, 1, 2).unsqueeze(0)

    def pose(self, keypoint: Tensor, volume: Tensor | None) -> Tensor:
        """(B, M, T, V, C) pose tokens: Option A, plus the volume sampled at each joint for Option B."""
        b, m, t, v, _ = keypoint.shape
        tokens = self.coord_embed(keypoint) + self.joint_embed + self.person_embed[:m, None, None]
        tokens = tokens + self.frame_embed[:t, None]
        if self.sampled_embed is not None and volume is not None and self.volume is not None:
            points = self.volume.joint_voxels(keypoint).reshape(b, m * t * v, 3)
            sampled = sample_volume(volume, points).view(b, m, t, v, -1)
            tokens = tokens + self.sampled_embed(sampled)
        return tokens

    def forward_features(self, x: Tensor, **modalities: Tensor) -> Tensor:
        m, c = check_batch(x, self.layout, type(self).__name__)
        if c != self.in_channels:
            raise FormatError(
                f"expected {self.in_channels} channels, got shape {tuple(x.shape)}", where="Deformable3D"
            )
        if m > self.num_persons or x.shape[2] > self.max_frames:
            raise FormatError(
                f"built for at most {self.num_persons} persons and {self.max_frames} frames, got shape "
                f"{tuple(x.shape)}",
                where="Deformable3D",
                hint="raise model_args num_persons or max_frames",
            )
        volume = self.appearance(x, modalities) if self.use_volume else None
        pose = self.pose(x, volume) if self.use_pose else None
        z = self.positioned(volume) if volume is not None else None
        cross = self.cross.to(x.dtype).unsqueeze(0).repeat(x.shape[0], 1, 1)
        for block in self.blocks:
            cross, z, pose = block(cross, z, pose)
        fused = cross.flatten(1) if self.fusion == "concat" else cross.sum(dim=1)
        return self.norm(fused)

    def forward(self, x: Tensor, **modalities: Tensor) -> Tensor:  # type: ignore[override]
        return self.forward_head(self.forward_features(x, **modalities))

    @torch.no_grad()
    def explain(self, x: Tensor, **modalities: Tensor) -> dict[str, Tensor]:
        """Logits and the maps the paper offers as explanations, each averaged over the blocks:

        - ``joints`` (B, M, T, V): the cross tokens' joint-stride attention to each joint (important joints);
        - ``frames`` (B, M, T, V): their temporal-stride attention to each frame of each joint;
        - ``points`` (B, L, G, N_s, 3): where 3DTS sampled the volume, (t, y, x) in volume voxels.

        A stream that is off gives no maps of its own."""
        joint_units = [blk.joint for blk in self.blocks if blk.joint is not None]
        frame_units = [blk.temporal for blk in self.blocks if blk.temporal is not None]
        searches = [blk.deformable.search for blk in self.blocks if blk.deformable is not None]
        for unit in (*joint_units, *frame_units):
            unit.attention.keep_attention = True
        for search in searches:
            search.keep_points = True
        try:
            logits = self(x, **modalities)
            b, m, t, v, _ = x.shape
            out = {"logits": logits}
            if joint_units:
                out["joints"] = torch.stack([u.joint_map((b, m, t)) for u in joint_units]).mean(dim=0)
                out["frames"] = torch.stack([u.frame_map((b, m, t, v)) for u in frame_units]).mean(dim=0)
            if searches:
                out["points"] = torch.stack([s.last_points for s in searches], dim=1)  # type: ignore[misc]
            return out
        finally:
            for unit in (*joint_units, *frame_units):
                unit.attention.keep_attention, unit.attention.last_attention = False, None
            for search in searches:
                search.keep_points, search.last_points = False, None


@register_model("deformable3d")
@builds(Deformable3D)
def deformable3d(**kwargs: Any) -> Deformable3D:
    """The 3D deformable transformer at CPU size: C 48, L 2, 4 heads, 24 × 24 heatmaps of every 2nd frame.

    165,864 parameters and 0.16 G MACs on NW-UCLA (kinect20, 32 frames, 10 classes); 11.8 M and 30.5 G at
    the paper config (configs/model/deformable3d_paper.yaml) on coco17, 48 frames, 2 persons, 60 classes
    (benchmarks/model_cost.py; docs/methods/deformable3d.md)."""
    return Deformable3D(**kwargs)
