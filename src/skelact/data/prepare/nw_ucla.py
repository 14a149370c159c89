"""`skelact prepare nw-ucla`: the ``all_sqe`` folder to a store with the cross-view split (spec 2.8, 5).

Standard protocol (CTR-GCN and successors): train on views 1 and 2 (1,020 sequences), test on view 3 (464).
The store gets ``train`` / ``test``; the runner carves ``val`` out of ``train`` by subject and keeps the
official training set as ``train_full``. Coordinates are stored as given (metres); CTR-GCN's centring and
min-max scaling are per-sample online steps (``normalize: minmax`` in configs/data/nw_ucla.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelact.data.formats.nw_ucla import ACTION_IDS, CLASS_NAMES, read_nw_ucla_file
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError
from skelact.options import Options, option

TRAIN_VIEWS = (1, 2)
TEST_VIEWS = (3,)


def parse_nw_ucla_item(path: str) -> list[SkeletonSample]:
    """Worker entry point: one file, one sample."""
    return [read_nw_ucla_file(path)]


def find_nw_ucla_files(raw: Path) -> list[str]:
    """The sequence files under `raw`: the ``all_sqe`` folder itself or a folder holding it."""
    folder = raw / "all_sqe" if (raw / "all_sqe").is_dir() else raw
    if not folder.is_dir():
        raise ConfigError(f"{raw} is not a folder", hint="`raw` takes the all_sqe folder or its parent")
    files = sorted(str(p) for p in folder.glob("*.json"))
    if not files:
        raise ConfigError(f"no .json files in {folder}", hint="`raw` takes the all_sqe folder or its parent")
    return files


class CrossViewSplits:
    """Picklable split function: ``train`` = `train_views`, ``test`` = `test_views`."""

    def __init__(self, train_views: tuple[int, ...], test_views: tuple[int, ...]) -> None:
        self.train_views, self.test_views = train_views, test_views

    def __call__(self, table: SampleTable) -> dict[str, np.ndarray]:
        views = table.column("view") if table.meta else np.zeros(0, dtype=np.int64)
        return {
            "train": np.flatnonzero(np.isin(views, self.train_views)),
            "test": np.flatnonzero(np.isin(views, self.test_views)),
        }


@dataclass(frozen=True, kw_only=True)
class NwUclaOptions(Options):
    """`skelact prepare nw-ucla` options: which views train and which test."""

    train_views: tuple[int, ...] = option(
        "views of the training split (default: 1 2, the standard cross-view protocol)", TRAIN_VIEWS
    )
    test_views: tuple[int, ...] = option("views of the test split (default: 3)", TEST_VIEWS)

    def __post_init__(self) -> None:
        super().__post_init__()
        both = sorted(set(self.train_views) & set(self.test_views))
        if both:
            raise ConfigError(f"views {both} are in both `train_views` and `test_views`")


@register_preparer("nw-ucla")
class NwUclaPreparer(JobRecipe[NwUclaOptions]):
    name: str
    help = "NW-UCLA all_sqe JSON folder; cross-view split (train views 1+2, test view 3)"
    options_type = NwUclaOptions

    def build(self, raw: Path, options: NwUclaOptions) -> PrepareJob:
        train_views = tuple(sorted(set(options.train_views)))
        test_views = tuple(sorted(set(options.test_views)))
        files = find_nw_ucla_files(Path(raw))
        standard = train_views == TRAIN_VIEWS and test_views == TEST_VIEWS
        return PrepareJob(
            items=files,
            parse=parse_nw_ucla_item,
            layout="kinect20",
            class_names=CLASS_NAMES,
            splits=CrossViewSplits(train_views, test_views),
            val_groups="subject",
            provenance={
                "recipe": "nw-ucla",
                "format": "nw-ucla",
                "raw": str(Path(raw).resolve()),
                "protocol": "cross-view" + ("" if standard else " (custom views)"),
                "train_views": list(train_views),
                "test_views": list(test_views),
                "label_map": {f"a{a:02d}": i for i, a in enumerate(ACTION_IDS)},
            },
        )
