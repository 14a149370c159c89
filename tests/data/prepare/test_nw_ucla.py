"""`prepare nw-ucla`: the cross-view split on small folders written here and on the full real set."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from skelact.cli.main import main
from skelact.data.datamodule import SkeletonDataModule
from skelact.data.formats.nw_ucla import CLASS_NAMES, label_of_action
from skelact.data.prepare.nw_ucla import NwUclaOptions
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "data" / "nw_ucla.yaml"


def options(**kw: Any) -> NwUclaOptions:
    return NwUclaOptions(**kw)


def write_folder(root: Path, *, frames: int = 6) -> Path:
    """all_sqe/ with 3 actions x 3 subjects x 3 views; subject 3's a04 in view 1 is a single frame."""
    folder = root / "all_sqe"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for action in (1, 4, 12):
        for subject in (1, 2, 3):
            for view in (1, 2, 3):
                name = f"a{action:02d}_s{subject:02d}_e00_v{view:02d}"
                t = 1 if (action, subject, view) == (4, 3, 1) else frames
                record = {
                    "file_name": name,
                    "skeletons": np.round(rng.normal(size=(t, 20, 3)), 5).tolist(),
                    "label": label_of_action(action) + 1,
                }
                (folder / f"{name}.json").write_text(json.dumps(record))
    return root


def test_small_folder_cross_view(tmp_path: Path) -> None:
    raw = write_folder(tmp_path / "raw")
    job = get_preparer("nw-ucla").build(raw, options())
    summary = run_job(
        job, RunOptions(raw=raw, out=tmp_path / "store", workers=1, val_fraction=0.0, progress=False)
    )
    store = SkeletonStore(tmp_path / "store")
    assert summary.written == 27 and set(store.splits) == {"train", "test"}
    views = store.meta_column("view")
    assert set(views[store.splits["train"]]) == {1, 2} and set(views[store.splits["test"]]) == {3}
    assert store.class_names == CLASS_NAMES and store.layout.name == "kinect20"
    assert sorted(set(store.labels.tolist())) == [0, 3, 9]
    one = store.sample_ids.index("a04_s03_e00_v01")
    assert store.lengths[one] == 1
    assert store.provenance["protocol"] == "cross-view" and store.provenance["train_views"] == [1, 2]


def test_validation_carved_by_subject_and_config_loads(tmp_path: Path) -> None:
    raw = write_folder(tmp_path / "raw")
    job = get_preparer("nw-ucla").build(raw / "all_sqe", options())  # the all_sqe folder itself also works
    run_job(
        job, RunOptions(raw=raw, out=tmp_path / "store", workers=1, val_fraction=0.3, seed=1, progress=False)
    )
    store = SkeletonStore(tmp_path / "store")
    subjects = store.meta_column("subject")
    train, val = store.splits["train"], store.splits["val"]
    assert val.size and not set(subjects[train]) & set(subjects[val])
    assert sorted(np.concatenate([train, val]).tolist()) == store.splits["train_full"].tolist()
    # configs/data/nw_ucla.yaml builds batches, including the one-frame sequence
    data = yaml.safe_load(CONFIG.read_text())["data"]
    module = SkeletonDataModule(
        **{**data, "store": str(tmp_path / "store"), "num_workers": 0, "batch_size": 4}
    )
    batch = next(iter(module.train_dataloader()))
    assert tuple(batch["keypoint"].shape[-4:]) == (1, 52, 20, 3)
    assert float(batch["keypoint"].abs().max()) <= 1.0 + 1e-6  # normalize: minmax
    assert len(module.train_dataloader().sampler) == 5 * train.size  # repeat: 5
    test_batch = next(iter(module.test_dataloader()))
    assert test_batch is not None


def test_custom_views_and_errors(tmp_path: Path) -> None:
    raw = write_folder(tmp_path / "raw")
    job = get_preparer("nw-ucla").build(raw, options(train_views=[1], test_views=[2, 3]))
    run_job(job, RunOptions(raw=raw, out=tmp_path / "store", workers=1, val_fraction=0.0, progress=False))
    store = SkeletonStore(tmp_path / "store")
    assert store.splits["train"].size == 9 and store.splits["test"].size == 18
    assert "custom" in store.provenance["protocol"]
    with pytest.raises(ConfigError, match="both `train_views` and `test_views`"):
        get_preparer("nw-ucla").build(raw, options(train_views=[1, 3]))
    with pytest.raises(ConfigError, match=r"no \.json files"):
        get_preparer("nw-ucla").build(tmp_path, options())


def test_bad_file_stops_or_is_listed(tmp_path: Path) -> None:
    raw = write_folder(tmp_path / "raw")
    bad = raw / "all_sqe" / "a01_s01_e00_v02.json"
    record = json.loads(bad.read_text())
    record["label"] = 5
    bad.write_text(json.dumps(record))
    job = get_preparer("nw-ucla").build(raw, options())
    with pytest.raises(FormatError, match=r"a01_s01_e00_v02\.json.*label 5 disagrees"):
        run_job(
            job, RunOptions(raw=raw, out=tmp_path / "stopped", workers=1, val_fraction=0.0, progress=False)
        )
    assert not (tmp_path / "stopped").exists()
    summary = run_job(
        job,
        RunOptions(
            raw=raw, out=tmp_path / "store", workers=1, skip_bad=True, val_fraction=0.0, progress=False
        ),
    )
    assert summary.written == 26 and len(summary.bad) == 1 and summary.bad[0][0] == str(bad)
    assert SkeletonStore(tmp_path / "store").provenance["bad_count"] == 1


# ----------------------------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """The full NW-UCLA set prepared once (2 workers, no validation carve) with its wall time."""
    raw = shared_data / "nw_ucla"
    if not (raw / "all_sqe").is_dir():
        pytest.skip(f"{raw / 'all_sqe'} is absent")
    out = tmp_path_factory.mktemp("nw_ucla") / "store"
    start = time.perf_counter()
    run_job(
        get_preparer("nw-ucla").build(raw, options()),
        RunOptions(raw=raw, out=out, workers=2, val_fraction=0.0, progress=False),
    )
    return raw, out, time.perf_counter() - start


def test_real_store_sizes(real_store: tuple[Path, Path, float]) -> None:
    _, out, seconds = real_store
    store = SkeletonStore(out)
    assert len(store) == 1484
    assert store.splits["train"].size == 1020 and store.splits["test"].size == 464
    assert len(store.class_names) == 10 and sorted(set(store.labels.tolist())) == list(range(10))
    assert set(store.meta_column("view")[store.splits["test"]]) == {3}
    assert store.lengths.min() == 1 and store.lengths.max() == 201
    assert (store.num_persons == 1).all()
    assert seconds < 30, f"preparing NW-UCLA took {seconds:.1f} s"


def test_real_values_equal_the_json(real_store: tuple[Path, Path, float]) -> None:
    raw, out, _ = real_store
    store = SkeletonStore(out)
    for name in ("a08_s01_e00_v03", "a12_s10_e04_v02"):
        record = json.loads((raw / "all_sqe" / f"{name}.json").read_text())
        i = store.sample_ids.index(name)
        keypoint, score = store.read(i)
        expected = np.asarray(record["skeletons"], dtype=np.float32)
        assert score is None and keypoint.shape == (1, *expected.shape)
        # the store keeps float16: about 3 significant digits
        np.testing.assert_allclose(keypoint[0], expected, rtol=1e-3, atol=1e-3)
        assert store.labels[i] == record["label"] - 1


def test_real_cli_with_validation(
    shared_data: Path, real_store: tuple[Path, Path, float], tmp_path: Path
) -> None:
    raw, _, _ = real_store
    out = tmp_path / "store"
    assert (
        main(["prepare", "nw-ucla", "--raw", str(raw), "--out", str(out), "--workers", "2", "--no-progress"])
        == 0
    )
    store = SkeletonStore(out)
    splits = store.splits
    assert splits["train_full"].size == 1020 and splits["test"].size == 464
    assert splits["train"].size + splits["val"].size == 1020 and splits["val"].size > 0
    subjects = store.meta_column("subject")
    assert not set(subjects[splits["train"]]) & set(subjects[splits["val"]])
    assert store.provenance["validation"]["by"] == {"train": "subject"}
