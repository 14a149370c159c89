"""`skelact prepare keypoint-table`: one CSV/JSON keypoint table per clip plus a labels CSV."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from skelact.data.formats.clip_labels import ClipRow
from skelact.data.formats.keypoint_table import read_keypoint_table
from skelact.data.prepare.clip_folder import (
    ClipFolderOptions,
    describe_row,
    labels_option,
    plan_clip_folder,
)
from skelact.data.prepare.job import PrepareJob
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.sample import SkeletonSample
from skelact.skeleton.layout import Layout


def parse_table_row(row: ClipRow, *, layout: Layout, labels_name: str) -> list[SkeletonSample]:
    """One CSV row -> one sample (runs in worker processes)."""
    return [
        read_keypoint_table(
            row.path,
            layout,
            label=row.label,
            sample_id=row.sample_id,
            meta=row.meta,
            listed_at=f"{labels_name} line {row.line}",
        )
    ]


@dataclass(frozen=True, kw_only=True)
class KeypointTableOptions(ClipFolderOptions):
    """`skelact prepare keypoint-table` options."""

    labels: Path | None = labels_option("table")


@register_preparer("keypoint-table")
class KeypointTablePreparer(JobRecipe[KeypointTableOptions]):
    help = "your own keypoints: one CSV/JSON table per clip (frame, person, joint, x, y[, z][, score])"
    options_type = KeypointTableOptions

    def build(self, raw: Path, options: KeypointTableOptions) -> PrepareJob:
        plan = plan_clip_folder(raw, options, recipe="keypoint-table")
        return PrepareJob(
            items=plan.items,
            parse=functools.partial(parse_table_row, layout=plan.layout, labels_name=plan.labels_name),
            layout=plan.layout,  # type: ignore[arg-type]  # a Layout object: user layouts have no registry name
            class_names=plan.labels.class_names,
            splits=plan.splits,
            val_groups=plan.val_groups,
            provenance=plan.provenance,
            describe=describe_row,
        )
