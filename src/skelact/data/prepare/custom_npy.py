"""`skelact prepare custom-npy`: a folder of .npy clips plus a labels CSV (docs/custom-data.md)."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from skelact.data.formats.clip_labels import ClipRow
from skelact.data.formats.custom_npy import read_custom_npy
from skelact.data.prepare.clip_folder import add_clip_folder_arguments, describe_row, plan_clip_folder
from skelact.data.prepare.job import PrepareJob
from skelact.data.prepare.registry import register_preparer
from skelact.data.sample import SkeletonSample


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


@register_preparer("custom-npy")
class CustomNpyPreparer:
    help = "your own clips: a folder of .npy arrays (T,V,C) or (M,T,V,C) plus a labels CSV"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_clip_folder_arguments(parser, what=".npy")
        parser.add_argument(
            "--score-channel",
            action="store_true",
            help="the arrays' last channel is a keypoint confidence (x,y,score or x,y,z,score)",
        )

    def build(self, raw: Path, options: argparse.Namespace) -> PrepareJob:
        plan = plan_clip_folder(raw, options, recipe="custom-npy", suffixes=(".npy",))
        score_channel = bool(getattr(options, "score_channel", False))
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
