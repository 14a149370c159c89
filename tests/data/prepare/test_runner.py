"""The preparation runner: outcomes of every item, parallel order, splits with validation, atomicity."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest

from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.runner import run_job
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError


def _parse_number(item: int, *, bad: frozenset[int] = frozenset(), skip: frozenset[int] = frozenset()):
    if item in bad:
        raise FormatError("not a number file", path=f"item{item}.txt", where="line 3")
    if item in skip:
        raise SkipItem("listed as missing")
    keypoint = np.full((1, 4 + item % 3, 25, 3), item / 100, dtype=np.float32)
    return [SkeletonSample(keypoint, label=item % 3, meta={"subject": item % 5}, sample_id=f"s{item:03d}")]


def _by_subject(table: SampleTable) -> dict[str, np.ndarray]:
    subjects = table.column("subject")
    return {"xsub_train": np.flatnonzero(subjects < 3), "xsub_test": np.flatnonzero(subjects >= 3)}


def _job(n: int = 40, **kwargs: frozenset[int]) -> PrepareJob:
    return PrepareJob(
        items=list(range(n)),
        parse=functools.partial(_parse_number, **kwargs),
        layout="ntu25",
        class_names=["a", "b", "c"],
        splits=_by_subject,
        provenance={"format": "numbers"},
    )


def test_parallel_run_keeps_item_order_and_carves_validation_by_subject(tmp_path: Path) -> None:
    summary = run_job(
        _job(), RunOptions(raw=tmp_path, out=tmp_path / "store", workers=2, val_fraction=0.2, progress=False)
    )
    store = SkeletonStore(tmp_path / "store")
    assert store.sample_ids == [f"s{i:03d}" for i in range(40)]
    np.testing.assert_allclose(store.read(7)[0][0, 0, 0, 0], 0.07, rtol=1e-3)
    splits = store.splits
    assert set(splits) == {"xsub_train", "xsub_val", "xsub_train_full", "xsub_test"}
    carved = np.sort(np.concatenate([splits["xsub_train"], splits["xsub_val"]]))
    assert carved.tolist() == splits["xsub_train_full"].tolist()
    subjects = store.meta_column("subject")
    assert not set(subjects[splits["xsub_val"]]) & set(subjects[splits["xsub_train"]])
    assert summary.splits["xsub_train_full"] == 24 and summary.validation["by"]["xsub_train"] == "subject"


def test_bad_item_stops_the_run_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"item5\.txt \(line 3\): not a number file.*`skip_bad`"):
        run_job(
            _job(bad=frozenset({5})),
            RunOptions(raw=tmp_path, out=tmp_path / "store", workers=2, progress=False),
        )
    assert list(tmp_path.iterdir()) == []


def test_skip_bad_and_skip_items_are_counted_and_kept_in_provenance(tmp_path: Path) -> None:
    job = _job(bad=frozenset({5}), skip=frozenset({6, 7}))
    summary = run_job(
        job,
        RunOptions(
            raw=tmp_path, out=tmp_path / "store", workers=1, skip_bad=True, val_fraction=0.0, progress=False
        ),
    )
    assert (summary.items, summary.written, len(summary.skipped), len(summary.bad)) == (40, 37, 2, 1)
    provenance = SkeletonStore(tmp_path / "store").provenance
    assert provenance["bad"] == [["5", "item5.txt (line 3): not a number file"]]
    assert provenance["skipped"] == [["6", "listed as missing"], ["7", "listed as missing"]]
    assert provenance["format"] == "numbers" and provenance["validation"] == {"fraction": 0.0}


def _own_val(table: SampleTable) -> dict[str, np.ndarray]:
    subjects = table.column("subject")
    return {"train": np.flatnonzero(subjects < 3), "val": np.flatnonzero(subjects == 3),
            "test": np.flatnonzero(subjects == 4)}  # fmt: skip


def test_a_source_with_its_own_validation_split_keeps_it(tmp_path: Path) -> None:
    job = dataclasses.replace(_job(), splits=_own_val)
    summary = run_job(
        job, RunOptions(raw=tmp_path, out=tmp_path / "store", workers=1, val_fraction=0.2, progress=False)
    )
    assert summary.splits == {"train": 24, "val": 8, "test": 8}
    assert summary.validation["by"] == {"train": "source"}


def test_a_reader_hint_is_kept_and_not_repeated(tmp_path: Path) -> None:
    job = dataclasses.replace(_job(), parse=_parse_with_hint)
    with pytest.raises(FormatError) as info:
        run_job(job, RunOptions(raw=tmp_path, out=tmp_path / "store", workers=2, progress=False))
    assert info.value.hint == "rescale it" and str(info.value).count("hint") == 1


def _parse_with_hint(item: int):
    raise FormatError("too large", path=f"item{item}.txt", hint="rescale it")


@pytest.mark.parametrize(("dtype", "exact"), [(None, True), ("float32", True), ("float16", False)])
def test_storage_dtype_is_float32_unless_float16_is_asked_for(
    tmp_path: Path, dtype: str | None, exact: bool
) -> None:
    extra = {} if dtype is None else {"dtype": dtype}
    options = RunOptions(
        raw=tmp_path, out=tmp_path / "store", workers=1, val_fraction=0.0, progress=False, **extra
    )
    run_job(_job(8), options)
    store = SkeletonStore(tmp_path / "store")
    assert store.dtype == (dtype or "float32")
    value = store.read(7)[0][0, 0, 0, 0]
    assert bool(value == np.float32(0.07)) is exact  # 0.07 is not a float16 number
    assert value == pytest.approx(0.07, rel=1e-3)


def test_the_summary_reports_the_carve_and_warns_when_it_is_tiny(tmp_path: Path) -> None:
    summary = run_job(
        _job(), RunOptions(raw=tmp_path, out=tmp_path / "store", workers=1, val_fraction=0.2, progress=False)
    )
    carve = summary.validation["carves"]["xsub_train"]
    assert carve["by"] == "subject" and carve["val"] == summary.splits["xsub_val"] and carve["groups"] == 3
    lines = summary.lines()
    assert any(line.startswith("validation 'xsub_val' from 'xsub_train' (by subject): ") for line in lines)
    assert any(line.startswith("warning: 'xsub_val' holds only ") for line in lines)
    assert SkeletonStore(tmp_path / "store").provenance["validation"]["carves"] == {"xsub_train": carve}


def test_val_by_class_stratifies_even_with_subjects(tmp_path: Path) -> None:
    run = RunOptions(
        raw=tmp_path, out=tmp_path / "store", workers=1, val_fraction=0.25, val_by="class", progress=False
    )
    summary = run_job(_job(), run)
    store = SkeletonStore(tmp_path / "store")
    labels, val = store.labels, store.split("xsub_val")
    assert summary.validation["by"]["xsub_train"] == "class"
    assert (
        np.bincount(labels[val], minlength=3).tolist()
        == np.round(0.25 * np.bincount(labels[store.split("xsub_train_full")], minlength=3) + 1e-9)
        .astype(int)
        .tolist()
    )
    assert summary.validation["carves"]["xsub_train"]["classes_without_val"] == []


def test_val_by_subject_without_subjects_is_an_error(tmp_path: Path) -> None:
    job = dataclasses.replace(_job(), val_groups=None)
    run = RunOptions(raw=tmp_path, out=tmp_path / "store", workers=1, val_by="subject", progress=False)
    with pytest.raises(ConfigError, match="`val_by` subject"):
        run_job(job, run)
    assert not (tmp_path / "store").exists()
