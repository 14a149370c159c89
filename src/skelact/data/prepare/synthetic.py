"""`skelact prepare synthetic`: the procedural dataset as a store with subject-disjoint splits.

Splits: ``test`` holds the last `test_subjects_fraction` of subject ids (a cross-subject protocol, like
NTU's X-Sub), ``val`` is carved from the remaining subjects by subject, ``train`` is the rest, and
``train_full`` = train + val for a final fit after model selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from skelact.data.carve_report import carve_lines, describe_carve
from skelact.data.prepare.registry import register_preparer
from skelact.data.splits import carve_validation, split_by_group
from skelact.data.store import SkeletonStore, write_store
from skelact.errors import ConfigError
from skelact.options import Options, option


def prepare_synthetic(
    out_dir: str | Path,
    *,
    per_class: int = 100,
    seed: int = 0,
    dims: int = 3,
    num_subjects: int = 20,
    test_subjects_fraction: float = 0.3,
    val_fraction: float = 0.1,
    val_by: Literal["subject", "class"] = "subject",
    overwrite: bool = False,
) -> Path:
    """Generate the synthetic dataset and write it as a store at `out_dir`; return the store path."""
    # Imported here so that listing or importing recipes does not build the generator's motion tables.
    from skelact.data.synthetic import generate_dataset

    if not 0.0 < test_subjects_fraction < 1.0:
        raise ConfigError(f"test_subjects_fraction must be between 0 and 1, got {test_subjects_fraction}")
    if num_subjects < 3:
        raise ConfigError(
            f"num_subjects must be at least 3 (train, val and test subjects), got {num_subjects}"
        )
    dataset = generate_dataset(per_class, seed=seed, dims=dims, num_subjects=num_subjects)
    samples = dataset.samples
    subjects = np.asarray([s.meta["subject"] for s in samples])
    labels = np.asarray([s.label for s in samples], dtype=np.int64)
    subject_ids = np.unique(subjects)
    if subject_ids.size < 3:
        raise ConfigError(f"the generated data has only {subject_ids.size} subjects; need at least 3")
    # Keep at least two subjects out of test: one for validation, one for training.
    n_test = min(max(1, round(test_subjects_fraction * subject_ids.size)), subject_ids.size - 2)
    train_full, test = split_by_group(subjects, subject_ids[-n_test:])
    if val_by not in ("subject", "class"):
        raise ConfigError(f"`val_by` must be 'subject' or 'class', got {val_by!r}")
    train, val = carve_validation(
        train_full,
        labels=labels,
        groups=subjects if val_by == "subject" else None,
        fraction=val_fraction,
        seed=seed,
    )
    return write_store(
        out_dir,
        samples,
        layout=dataset.layout,
        class_names=dataset.class_names,
        splits={"train": train, "val": val, "test": test, "train_full": train_full},
        provenance={
            "generator": "skelact.data.synthetic.generate_dataset",
            "recipe": "synthetic",
            "per_class": per_class,
            "seed": seed,
            "dims": dims,
            "num_subjects": num_subjects,
            "test_subjects": subject_ids[-n_test:].tolist(),
            "test_subjects_fraction": test_subjects_fraction,
            "val_fraction": val_fraction,
            "val_by": val_by,
        },
        overwrite=overwrite,
    )


@dataclass(frozen=True, kw_only=True)
class SyntheticOptions(Options):
    """`skelact prepare synthetic` options."""

    out: Path = option("directory of the new store")
    per_class: int = option("samples per class (default 100)", 100)
    seed: int = option("seed of the generator and of the validation carve (default 0)", 0)
    dims: Literal[2, 3] = option("3 = ntu25 3D, 2 = coco17 2D", 3)
    subjects: int = option("number of distinct synthetic people", 20)
    val_by: Literal["subject", "class"] = option(
        "validation carved by whole subjects, or stratified by class (each class gives 10 %)", "subject"
    )
    overwrite: bool = option("replace an existing store", False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.per_class < 1:
            raise ConfigError("`per_class` must be at least 1")


@dataclass(frozen=True)
class SyntheticSummary:
    """The written store, as `skelact prepare synthetic` reports it."""

    path: Path
    samples: int
    layout: str
    splits: dict[str, int]
    carve: list[str]  # what the validation carve made (skelact.data.carve_report)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{name} {count}" for name, count in self.splits.items())
        return [
            f"wrote {self.path}: {self.samples} samples, layout {self.layout}, splits: {counts}",
            *self.carve,
        ]


@register_preparer("synthetic")
class SyntheticRecipe:
    """Generates its samples instead of reading them, so it has no ``--raw`` and writes its own splits."""

    name: str
    help = "the embedded procedural dataset (12 actions)"
    option_types = (SyntheticOptions,)

    def prepare(self, options: SyntheticOptions) -> SyntheticSummary:
        path = prepare_synthetic(
            options.out,
            per_class=options.per_class,
            seed=options.seed,
            dims=options.dims,
            num_subjects=options.subjects,
            val_by=options.val_by,
            overwrite=options.overwrite,
        )
        store = SkeletonStore(path)
        splits = {name: len(indices) for name, indices in store.splits.items()}
        report = describe_carve(
            store.split("train"),
            store.split("val"),
            labels=store.labels,
            groups=store.meta_column("subject") if options.val_by == "subject" else None,
            by=options.val_by,
        )
        carve = carve_lines("train", "val", report, store.class_names)
        return SyntheticSummary(Path(path), len(store), store.layout.name, splits, carve)
