"""Modality features of one part of the skeleton: PSUMNet's "multi-modality data generator" (MMDG).

specs/psumnet.md section 2: select the part's joints (in stream order, keeping their global coordinates),
then compute joint, bone, joint motion and bone motion on the part, with the part's own bone pairs, and
concatenate them on channels: ``[J, B, JM, BM]`` is 4 x 3 = 12 channels for 3D data. This is
`ModalityFeatures` on the part's layout (`skelact.skeleton.parts.part_layout`) after a joint selection, so
every modality rule (root bone zero, last motion frame zero, missing joints masked, score channel) is the
same as for whole skeletons. ``official_quirks`` follows the released feeder instead: its part pairs and no
masking (a bone or motion touching a missing joint is still the plain difference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from skelact.errors import FormatError
from skelact.models.inputs.modality import ModalityFeatures
from skelact.skeleton.layout import Layout, get_layout
from skelact.skeleton.parts import part_layout

UNIFIED_MODALITY: tuple[str, ...] = ("j", "b", "jm", "bm")  # PSUMNet's channel order (spec section 2)


class PartModalityFeatures(nn.Module):
    """(N, M, T, V, C) -> (N, M, T, V_part, C * k): `part`'s joints, then the modalities concatenated in the
    order given (default PSUMNet's ``j, b, jm, bm``).

    `official_quirks` takes the part pairs of PSUMNet's released code (`parts.OFFICIAL_QUIRKS`, e.g. its
    off-by-one NTU leg bones) and, like its feeder, subtracts at missing joints too (where a person appears
    or disappears, a motion is then a jump from or to the origin). `output_layout` is the part's skeleton,
    from which the stream's graph is built, so bones and graph come from the same pairs.
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        part: str,
        modality: str | Sequence[str] = UNIFIED_MODALITY,
        num_coords: int = 3,
        score_channel: bool = False,
        official_quirks: bool = False,
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        self.part = part
        self.official_quirks = official_quirks
        self.output_layout = part_layout(self.layout, part, official_quirks)
        self.features = ModalityFeatures(
            self.output_layout, modality, num_coords, score_channel, mask_missing=not official_quirks
        )
        joints = torch.tensor(self.layout.part(part), dtype=torch.long)
        self.register_buffer("joints", joints, persistent=False)

    @property
    def modality(self) -> tuple[str, ...]:
        return self.features.modality

    @property
    def in_channels(self) -> int:
        return self.features.in_channels

    def out_channels(self, in_channels: int | None = None) -> int:
        return self.features.out_channels(in_channels)

    def forward(self, x: Tensor) -> Tensor:
        if not torch.jit.is_tracing() and (x.dim() != 5 or x.shape[3] != self.layout.num_joints):
            raise FormatError(
                f"expected (N, M, T, {self.layout.num_joints}, C) for layout {self.layout.name!r}, got "
                f"{tuple(x.shape)}",
                where=f"part {self.part!r} features",
            )
        return self.features(x.index_select(3, self.joints))

    def extra_repr(self) -> str:
        return f"layout={self.layout.name}, part={self.part}, official_quirks={self.official_quirks}"
