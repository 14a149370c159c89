"""PSUMNet (Trivedi & Sarvadevabhatla, ECCV 2022 WCPA): one part stream with unified modalities.

specs/psumnet.md sections 2-4. A stream takes raw keypoints of the whole layout and runs:

    MMDG: the part's joints -> [joint, bone, joint motion, bone motion] on channels (12 for 3D)
          (`PartModalityFeatures`; bones and graph from the same part pairs, `skelact.skeleton.parts`)
    data BN per (person slot, joint, channel) -> STRBs -> mean over frames, joints, persons -> linear

An STRB is CTR-GCN's unit (`CTRGCNBlock`: CTRGraphConv = SAMG x 3 subsets, then the four-branch
MultiScaleTemporalConv = TRM, plus a residual). The blocks are rows of CTR-GCN's 10-row layer table (widths
64 -> 128 -> 256, temporal stride 2 at rows 5 and 8): body uses rows 1-10, hands 1, 5, 6, 7, 8, 9, legs
1, 5, 6, 8 (spec section 4 table). The graph is CTR-GCN's [I, inward, outward] with edges oriented as the
part pairs list them (`listed_partition`), each subset a learnable copy (PA).

The whole MMDG lives inside the model, as in the paper's diagram, so training, `skelact predict` and export
feed it plain keypoints (``model.modality: j``) and a checkpoint rebuilds the stream from its model_args.

``official_quirks`` reproduces the released code: its part pairs (`parts.OFFICIAL_QUIRKS`: the off-by-one
NTU leg list, the shifted SHREC'17 indices), its feeder's unmasked bones and motions (`PartModalityFeatures`)
and its SAMG relation width (`released_relation_channels`: R = 12 // 8 = 1 in the first layer, 9 // 8 = 1
for a 9-channel modality). Off (the default): corrected pairs, masked differences and R = 8 in the first
layer, CTR-GCN's width for raw-coordinate input [design choice]. The feeder's valid-length rule is the data's
(``data.valid_frames: count``, `skelact.data.clips.ClipSpec`). Parameter counts: docs/methods/psumnet.md.
Released checkpoints (the body stream's) load through `convert_official_state_dict` into a stream built with
``official_quirks=True``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.backbones.base import DataBN, GraphBackbone
from skelact.models.backbones.ctrgcn import CTRGCNBlock, init_official_head
from skelact.models.backbones.ctrgcn import convert_official_state_dict as convert_ctrgcn_state_dict
from skelact.models.backbones.stgcn import stage_plan
from skelact.models.inputs.part_modality import UNIFIED_MODALITY, PartModalityFeatures
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout
from skelact.skeleton.graph import listed_partition

# Rows (1-based) of the 10-row layer table each stream keeps (spec section 4 table; section 11).
STREAM_BLOCKS: dict[str, tuple[int, ...]] = {
    "body": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    "hands": (1, 5, 6, 7, 8, 9),
    "legs": (1, 5, 6, 8),
}
# The registered per-stream names: PSUMNet's stream names -> the layout part they read.
STREAMS: dict[str, str] = {"body": "body", "hand": "hands", "leg": "legs"}
CORRECTED_FIRST_RELATION = 8  # CTR-GCN's relation width for raw-coordinate input (3 or 9 channels)


def released_relation_channels(in_channels: int) -> int:
    """The released SAMG's relation width: 8 for 3 or 6 input channels, else in_channels // 8 (CTR-GCN
    keeps 8 for 9 channels; the released rule gives 1, as for 12). A width of 0 cannot be built."""
    rel = 8 if in_channels in (3, 6) else in_channels // 8
    if rel < 1:
        raise ConfigError(
            f"PSUMNet's released relation width is {in_channels} // 8 = 0 for a {in_channels}-channel input",
            hint="turn official_quirks off (the corrected first layer uses 8) or choose more modalities",
        )
    return rel


def check_blocks(blocks: Sequence[int]) -> tuple[int, ...]:
    """Rows of the layer table, increasing, starting at row 1 (the only one that reads the input)."""
    rows = tuple(int(b) for b in blocks)
    if not rows or rows[0] != 1 or any(b <= a for a, b in itertools.pairwise(rows)) or rows[-1] > 10:
        raise ConfigError(
            f"PSUMNet blocks must be increasing rows of 1..10 starting at 1, got {list(blocks)}"
        )
    return rows


class PSUMNet(GraphBackbone):
    """One PSUMNet stream: MMDG on `part`, then the STRBs of `blocks` (default: the part's row of
    `STREAM_BLOCKS`). `in_channels` counts the raw keypoint channels (3 for 3D; 2D + score is 3 with
    ``num_coords=2``); the backbone's own width is the MMDG's output. ``self.layout`` is the part's skeleton,
    ``self.input_layout`` the data's."""

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        part: str = "body",
        blocks: Sequence[int] | None = None,
        official_quirks: bool = False,
        modality: str | Sequence[str] = UNIFIED_MODALITY,
        num_coords: int = 3,
        base_channels: int = 64,
        dropout: float = 0.0,
        data_bn: DataBN = True,
    ) -> None:
        if blocks is None and part not in STREAM_BLOCKS:
            raise ConfigError(
                f"PSUMNet has no block plan for part {part!r}",
                hint=f"use a part of {', '.join(STREAM_BLOCKS)} or pass blocks, e.g. [1, 5, 6, 8]",
            )
        mmdg = PartModalityFeatures(
            layout, part, modality, num_coords, in_channels > num_coords, official_quirks=official_quirks
        )
        super().__init__(mmdg.output_layout, mmdg.out_channels(in_channels), num_persons, data_bn)
        self.mmdg = mmdg
        self.input_layout = mmdg.layout
        self.part = part
        self.official_quirks = official_quirks
        self.block_rows = check_blocks(STREAM_BLOCKS[part] if blocks is None else blocks)
        A = torch.from_numpy(listed_partition(self.layout))
        # (out, stride) of the 10 rows; a block's input is the previous kept block's output.
        table = [(base_channels, 1), *((out, stride) for _, out, stride in stage_plan(base_channels))]
        width = self.in_channels
        layers = []
        for row in self.block_rows:
            out, stride = table[row - 1]
            first = row == 1
            if official_quirks:
                rel = released_relation_channels(width)
            else:
                rel = CORRECTED_FIRST_RELATION if first else None
            layers.append(CTRGCNBlock(width, out, A, stride, residual=not first, rel_channels=rel))
            width = out
        self.blocks = nn.Sequential(*layers)
        self._build_head(width, num_classes, dropout)
        init_official_head(self.head.fc)

    def forward_features(self, x: Tensor) -> Tensor:
        return super().forward_features(self.mmdg(x))

    def forward_sequence(self, x: Tensor) -> Tensor:
        return super().forward_sequence(self.mmdg(x))

    def reset_classifier(self, num_classes: int, dropout: float = 0.0) -> None:
        super().reset_classifier(num_classes, dropout)
        init_official_head(self.head.fc)


@register_model("psumnet")
@builds(PSUMNet)
def psumnet(**kwargs: Any) -> PSUMNet:
    """A PSUMNet stream on any part of the layout (`part`: a name in ``layout.parts``).

    Measured with benchmarks/model_cost.py, ntu25 3 x 64 x 25 x 2, 60 classes (docs/methods/psumnet.md):
    official_quirks=True: body 1,448,418, hands 978,482, legs 499,898 parameters (2,926,798 in all, the
    released code's count); False: +1,890 per stream (first-layer R = 8).
    """
    return PSUMNet(**kwargs)


def _stream_builder(part: str) -> Callable[..., PSUMNet]:
    """`psumnet` with the part fixed, so score files name their stream (``model: psumnet_hand``) and
    ensemble presets can match streams by name."""

    @builds(PSUMNet, part=part)
    def build(**kwargs: Any) -> PSUMNet:
        return PSUMNet(**kwargs)

    build.__doc__ = f"PSUMNet's {part!r} stream (`psumnet` with part={part!r})."
    return build


for _stream, _part in STREAMS.items():
    register_model(f"psumnet_{_stream}")(_stream_builder(_part))


def convert_official_state_dict(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map a released PSUMNet state dict onto `PSUMNet`'s names.

    Its STRBs are CTR-GCN's units kept in a ModuleList ``layers`` (``layers.0.gcn1.convs.0.conv1.weight``),
    so the i-th listed block becomes CTR-GCN's ``l{i+1}`` and CTR-GCN's converter does the rest (it numbers
    the blocks in order, whatever rows of the table the stream uses).
    """
    renamed = {}
    for key, value in state_dict.items():
        key = key.removeprefix("module.")
        renamed[re.sub(r"^layers\.(\d+)\.", lambda m: f"l{int(m.group(1)) + 1}.", key)] = value
    return convert_ctrgcn_state_dict(renamed)
