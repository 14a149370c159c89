"""`skelact prepare ctrgcn-npz`: protocol and dataset from the file name, second actors, skip-bad rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.data.prepare.ctrgcn_npz import CtrgcnNpzOptions, dataset_from_name, protocol_from_name
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.prepare.source_options import class_names
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError


def ntu_npz(path: Path, *, copy: bool, classes: int = 60, n_train: int = 6, n_test: int = 3) -> Path:
    rng = np.random.default_rng(0)

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.zeros((n, 300, 2, 25, 3), np.float32)
        for i in range(n):
            t = 20 + i
            x[i, :t, 0] = rng.normal(size=(t, 25, 3)) + 1
            if i % 3 == 0:
                x[i, :t, 1] = rng.normal(size=(t, 25, 3)) + 1  # a real second actor
            elif copy:
                x[i, :t, 1] = x[i, :t, 0]
        y = np.zeros((n, classes))
        y[np.arange(n), np.arange(n) % 2] = 1
        return x.reshape(n, 300, 150), y

    (x_train, y_train), (x_test, y_test) = part(n_train), part(n_test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def options(**values: Any) -> CtrgcnNpzOptions:
    return CtrgcnNpzOptions(**values)


def prepare(raw: Path, out: Path, *, skip_bad: bool = False, val: float = 0.0, **opts: Any) -> Any:
    job = get_preparer("ctrgcn-npz").build(raw, options(**opts))
    return run_job(
        job, RunOptions(raw=raw, out=out, workers=1, skip_bad=skip_bad, val_fraction=val, progress=False)
    )


@pytest.mark.parametrize(
    "stem, protocol, dataset",
    [
        ("NTU60_CS", "xsub", "ntu60"),
        ("NTU60_CV", "xview", "ntu60"),
        ("NTU120_CSub", "xsub", "ntu120"),
        ("NTU120_CSet", "xset", "ntu120"),
        ("NTU60_XSub", "xsub", "ntu60"),
        ("NTU60_XView", "xview", "ntu60"),
        ("my_data", None, None),
    ],
)
def test_names(stem: str, protocol: str | None, dataset: str | None) -> None:
    assert protocol_from_name(stem) == protocol and dataset_from_name(stem) == dataset


@pytest.mark.parametrize("stem, copy", [("NTU60_CS", False), ("NTU120_CSet", True)])
def test_file_to_store(tmp_path: Path, stem: str, copy: bool) -> None:
    raw = ntu_npz(tmp_path / f"{stem}.npz", copy=copy, classes=60 if "60" in stem else 120)
    prepare(raw, tmp_path / "store", val=0.2)
    store = SkeletonStore(tmp_path / "store")
    prefix = "xsub" if stem == "NTU60_CS" else "xset"
    assert store.split(f"{prefix}_test").tolist() == [6, 7, 8]
    assert store.split(f"{prefix}_train_full").tolist() == list(range(6))
    assert store.provenance["validation"]["by"][f"{prefix}_train"] == "class"
    assert store.num_persons.tolist() == [2, 1, 1, 2, 1, 1, 2, 1, 1]
    assert store.lengths.tolist() == [20, 21, 22, 23, 24, 25, 20, 21, 22]
    assert store.sample_ids[:2] == ["train_000000", "train_000001"] and store.sample_ids[6] == "test_000000"
    assert list(store.class_names) == class_names(None, num_classes=60 if "60" in stem else 120, ntu=True)
    counts = store.provenance["second_actor_counts"]
    assert counts == {"present": 3, "copy" if copy else "zero": 6}
    assert store.provenance["expected_second_actor"] == ("copy" if copy else "zero")
    assert store.meta(1)["second_actor"] == ("copy" if copy else "zero")


def test_skip_bad_lists_the_row(tmp_path: Path) -> None:
    raw = ntu_npz(tmp_path / "NTU60_CS.npz", copy=False)
    with np.load(raw) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["x_train"][2, 5, 17] = np.inf
    arrays["x_test"][1] = 0  # an empty row: skipped, not bad
    np.savez(raw, **arrays)
    with pytest.raises(FormatError, match="x_train row 2"):
        prepare(raw, tmp_path / "a")
    summary = prepare(raw, tmp_path / "b", skip_bad=True)
    assert summary.bad[0][0] == f"{raw} x_train row 2"
    assert summary.skipped[0][0] == f"{raw} x_test row 1" and summary.written == 7


def test_cli_options(tmp_path: Path) -> None:
    raw = ntu_npz(tmp_path / "custom.npz", copy=True, classes=5)
    names = tmp_path / "names.txt"
    names.write_text("\n".join("abcde"))
    out = tmp_path / "store"
    args = [
        "prepare",
        "ctrgcn-npz",
        "--raw",
        str(raw),
        "--out",
        str(out),
        "--val-fraction",
        "0",
        "--no-progress",
    ]
    assert main([*args, "--class-names", str(names), "--protocol", "xview"]) == 0
    store = SkeletonStore(out)
    assert store.class_names == tuple("abcde") and set(store.splits) == {"xview_train", "xview_test"}
    with pytest.raises(ConfigError, match="more than ntu60"):
        prepare(ntu_npz(tmp_path / "NTU60_big.npz", copy=False, classes=120), tmp_path / "x")
    plain = get_preparer("ctrgcn-npz").build(raw, options())
    assert plain.class_names[0] == "class_000" and len(plain.class_names) == 5


def test_a_stray_integer_label_is_refused(tmp_path: Path) -> None:
    path = ntu_npz(tmp_path / "mine.npz", copy=False)
    with np.load(path) as arrays:
        data = {k: arrays[k] for k in arrays.files}
    data["y_train"] = data["y_train"].argmax(1)  # integer labels, as some forks write them
    data["y_test"] = data["y_test"].argmax(1)
    data["y_test"][1] = 999
    np.savez(path, **data)
    with pytest.raises(
        FormatError, match=r"mine\.npz \(y_test row 1\): label 999 makes 1000 classes, 997"
    ) as info:
        prepare(path, tmp_path / "store")
    assert "`class_names` FILE" in (info.value.hint or "")
    data["y_test"][1] = 1
    np.savez(path, **data)
    assert prepare(path, tmp_path / "store").written == 9
