"""`skelact prepare custom-npy`: a folder of .npy clips plus a labels CSV (docs/custom-data.md)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from skelact.data.formats.clip_labels import ClipRow
from skelact.data.formats.custom_npy import read_custom_npy
from skelact.data.prepare.clip_folder import (
    ClipFolderOptions,
    describe_row,
    labels_option,
    plan_clip_folder,
)
from skelact.data.prepare.job import PrepareJob
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.sample import SkeletonSample
from skelact.options import option


def parse_npy_row(
    row: ClipRow, *, num_joints: int, layout_name: str, score_channel: bool, labels_name: str
) -> list[SkeletonSample]:
    """One CSV row -> one sample (runs in worker processes)."""
    return [
        read_custom_npy(
            row.path,
            num_joints=num_joints,
            layout_name=layout_name,
            score_channel=score_channel,
            label=row.label,
            sample_id=row.sample_id,
            meta=row.meta,
            listed_at=f"{labels_name} line {row.line}",
        )
    ]


@dataclass(frozen=True, kw_only=True)
class CustomNpyOptions(ClipFolderOptions):
    """`skelact prepare custom-npy` options."""

    labels: Path | None = labels_option(".npy")
    score_channel: bool = option(
        "the arrays' last channel is a keypoint confidence (x,y,score or x,y,z,score)", False
    )


@register_preparer("custom-npy")
class CustomNpyPreparer(JobRecipe[CustomNpyOptions]):
    help = "your own clips: a folder of .npy arrays (T,V,C) or (M,T,V,C) plus a labels CSV"
    options_type = CustomNpyOptions

    def build(self, raw: Path, options: CustomNpyOptions) -> PrepareJob:
        plan = plan_clip_folder(raw, options, recipe="custom-npy")
        score_channel = options.score_channel
        parse = functools.partial(
            parse_npy_row,
            num_joints=plan.layout.num_joints,
            layout_name=plan.layout.name,
            score_channel=score_channel,
            labels_name=plan.labels_name,
        )
        return PrepareJob(
            items=plan.items,
            parse=parse,
            layout=plan.layout,  # type: ignore[arg-type]  # a Layout object: user layouts have no registry name
            class_names=plan.labels.class_names,
            splits=plan.splits,
            val_groups=plan.val_groups,
            provenance={**plan.provenance, "score_channel": score_channel},
            describe=describe_row,
        )
