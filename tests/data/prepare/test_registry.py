"""One registry for every recipe: option records, `prepare(*options)`, and a summary with printable lines."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from skelact.data.prepare.longtail_recipe import LongtailOptions
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import JobRecipe, get_preparer, load_preparers
from skelact.data.prepare.synthetic import SyntheticOptions
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError
from skelact.options import Options


def test_every_recipe_declares_typed_frozen_options() -> None:
    for name, preparer in load_preparers().items():
        assert preparer.option_types, name
        for cls in preparer.option_types:
            assert issubclass(cls, Options) and dataclasses.is_dataclass(cls), (name, cls)
            assert cls.__dataclass_params__.frozen, (name, cls)  # type: ignore[attr-defined]
            assert all(f.metadata.get("help") for f in dataclasses.fields(cls)), (name, cls)
        if isinstance(preparer, JobRecipe):
            assert preparer.option_types[0] is RunOptions


def test_synthetic_and_longtail_run_through_the_registry(tmp_path: Path) -> None:
    out = tmp_path / "store"
    summary = get_preparer("synthetic").prepare(SyntheticOptions(out=out, per_class=2, dims=2, subjects=6))
    store = SkeletonStore(out)
    lines = summary.lines()
    assert lines[0] == f"wrote {out}: 24 samples, layout coco17, splits: " + ", ".join(
        f"{k} {len(v)}" for k, v in store.splits.items()
    )
    assert lines[1].startswith("validation 'val' from 'train' (by subject): ")
    options = LongtailOptions(store=out, split="train_full", n_max=2, rho=2.0, name="lt")
    lines = get_preparer("longtail").prepare(options).lines()
    store = SkeletonStore(out)
    assert "lt" in store.splits and lines[0].startswith(
        f"wrote split lt into {out}: {store.split('lt').size} "
    )
    assert np.isin(store.split("lt"), store.split("train_full")).all()


def test_bad_options_are_one_config_error_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`per_class` must be at least 1"):
        SyntheticOptions(out=tmp_path, per_class=0)
    with pytest.raises(ConfigError, match="`list_file` and `n_max`/`rho` are alternatives"):
        LongtailOptions(store=tmp_path, split="train", list_file=tmp_path / "l.txt", rho=10.0)
    with pytest.raises(ConfigError, match=r"`val_fraction` must be in \[0, 1\), got 1.0"):
        RunOptions(raw=tmp_path, out=tmp_path / "s", val_fraction=1.0)
    with pytest.raises(ConfigError, match="`workers` must be at least 1"):
        RunOptions(raw=tmp_path, out=tmp_path / "s", workers=0)
    with pytest.raises(ConfigError, match="`dims` must be one of 2, 3, got 4"):
        SyntheticOptions(out=tmp_path, dims=4)  # type: ignore[arg-type]


def test_a_job_recipe_checks_the_raw_path(tmp_path: Path) -> None:
    preparer = get_preparer("nw-ucla")
    options = preparer.options_type()  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"does not exist .*`raw` takes"):
        preparer.prepare(RunOptions(raw=tmp_path / "nothing", out=tmp_path / "s"), options)
