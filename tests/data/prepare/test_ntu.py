"""`skelact prepare ntu` end to end: the six real samples under every preset, skips, bad files, options."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.data.formats.ntu_presets import PRESETS
from skelact.data.formats.ntu_skeleton import NtuRecording, write_ntu_skeleton
from skelact.data.prepare.ntu import (
    MISSING_REASON,
    NtuOptions,
    NtuPreparer,
    detect_benchmark,
    find_skeleton_files,
    parse_preset_options,
)
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

SAMPLES = [
    "S001C001P001R001A001",
    "S001C001P001R001A011",
    "S001C003P008R002A058",
    "S002C001P003R001A003",
    "S003C001P015R001A034",
    "S004C002P003R001A017",
]


@pytest.fixture
def raw(shared_data: Path, tmp_path: Path) -> Path:
    """The six real samples, linked into a folder of their own (the shared folder stays read-only)."""
    source = shared_data / "ntu_rgbd_samples"
    if not source.is_dir():
        pytest.skip(f"{source} is absent")
    folder = tmp_path / "raw"
    folder.mkdir()
    for name in SAMPLES:
        (folder / f"{name}.skeleton").symlink_to(source / f"{name}.skeleton")
    return folder


def _prepare(raw: Path, out: Path, *extra: str) -> int:
    return main(
        ["prepare", "ntu", "--raw", str(raw), "--out", str(out), "--no-progress", "--workers", "1", *extra]
    )


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_end_to_end(raw: Path, tmp_path: Path, preset: str) -> None:
    out = tmp_path / "store"
    assert _prepare(raw, out, "--preset", preset, "--val-fraction", "0") == 0
    store = SkeletonStore(out)
    assert store.sample_ids == SAMPLES and store.layout.name == "ntu25"
    assert store.class_names[0] == "drink water" and len(store.class_names) == 60  # detected: NTU-60
    assert store.labels.tolist() == [0, 10, 57, 2, 33, 16]
    assert store.num_persons.tolist() == [1, 1, 2, 1, 1, 1]
    expected_lengths = [300] * 6 if preset == "agcn" else [103, 82, 70, 100, 71, 124]
    assert store.lengths.tolist() == expected_lengths
    assert {k: v.tolist() for k, v in store.splits.items()} == {
        "xsub_train": [0, 1, 2, 4],
        "xsub_test": [3, 5],
        "xview_train": [2, 5],
        "xview_test": [0, 1, 3, 4],
    }
    meta = store.meta(2)
    assert (meta["subject"], meta["view"], meta["setup"], meta["replication"], meta["action"]) == (
        8,
        3,
        1,
        2,
        58,
    )
    provenance = store.provenance
    assert provenance["preset"] == preset and provenance["benchmark"] == "ntu60"
    assert provenance["preset_parameters"]["rules"]["length_threshold"] == 11
    assert provenance["preset_parameters"]["name"] == preset and provenance["faithful"] is False
    keypoint, _ = store.read(0)
    assert keypoint.shape == (1, expected_lengths[0], 25, 3)
    if preset == "ctrgcn":
        np.testing.assert_allclose(keypoint[0, 0, 1], 0, atol=1e-6)  # centred offline


def test_skips_are_counted_with_reasons_and_validation_is_carved(raw: Path, tmp_path: Path) -> None:
    empty = NtuRecording.from_frames([[], []], name="S001C002P005R002A008")
    write_ntu_skeleton(raw / "S001C002P005R002A008.skeleton", empty)  # on the official list
    write_ntu_skeleton(
        raw / "S005C001P001R001A002.skeleton", NtuRecording.from_frames([[]] * 3)
    )  # not listed
    (raw / "sub").mkdir()  # searched recursively
    write_ntu_skeleton(
        raw / "sub" / "S018C001P001R001A061.skeleton", NtuRecording.from_frames([[(1, np.ones((25, 3)))]])
    )
    (raw / "NTU_RGBD_samples_with_missing_skeletons.txt").write_text("S001C002P005R002A008\n")
    out = tmp_path / "store"
    assert _prepare(raw, out, "--benchmark", "ntu60", "--seed", "3") == 0
    store = SkeletonStore(out)
    assert len(store) == 6
    provenance = store.provenance
    skipped = dict(map(tuple, provenance["skipped"]))
    assert skipped[str(raw / "S001C002P005R002A008.skeleton")] == MISSING_REASON
    assert "no body" in skipped[str(raw / "S005C001P001R001A002.skeleton")]
    assert "not in ntu60" in skipped[str(raw / "sub" / "S018C001P001R001A061.skeleton")]
    assert provenance["skipped_count"] == 3 and provenance["missing_listed"] == 1
    assert set(store.splits) == {
        f"{p}_{s}" for p in ("xsub", "xview") for s in ("train", "val", "train_full", "test")
    }


def test_ntu120_benchmark_and_explicit_missing_list(raw: Path, tmp_path: Path) -> None:
    listing = tmp_path / "missing.txt"
    listing.write_text("S001C001P001R001A011\n")
    out = tmp_path / "store"
    code = _prepare(raw, out, "--benchmark", "ntu120", "--missing-list", str(listing), "--val-fraction", "0")
    assert code == 0
    store = SkeletonStore(out)
    assert len(store.class_names) == 120 and store.class_names[119].startswith("finger-guessing")
    assert len(store) == 5 and set(store.splits) == {"xsub_train", "xsub_test", "xset_train", "xset_test"}
    assert store.splits["xset_train"].tolist() == [2, 4]  # S002, S004 among the five kept


def test_faithful_and_preset_options_reach_the_provenance(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "store"
    extra = [
        "--preset",
        "ctrgcn",
        "--faithful",
        "--preset-option",
        "length_threshold=5",
        "--val-fraction",
        "0",
    ]
    assert _prepare(raw, out, *extra) == 0
    parameters = SkeletonStore(out).provenance["preset_parameters"]
    assert parameters["rules"]["length_threshold"] == 5 and parameters["quirks"]["contiguous_frames"] is True
    assert SkeletonStore(out).provenance["faithful"] is True


def test_a_bad_file_stops_the_run_or_is_listed(
    raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = raw / "S001C001P002R001A005.skeleton"
    bad.write_text("2\n1\n7 0 0 0 0 0 0 0 0 2\n24\n")
    assert _prepare(raw, tmp_path / "a") == 2
    err = capsys.readouterr().err
    assert "S001C001P002R001A005.skeleton (line 4): expected 25 joints for body 7, got 24" in err
    assert not (tmp_path / "a").exists()
    assert _prepare(raw, tmp_path / "b", "--skip-bad", "--val-fraction", "0") == 0
    provenance = SkeletonStore(tmp_path / "b").provenance
    assert provenance["bad_count"] == 1 and "line 4" in provenance["bad"][0][1]


def test_bad_file_name_is_a_format_error(raw: Path, tmp_path: Path) -> None:
    (raw / "take1.skeleton").write_text("0\n")
    job = get_preparer("ntu").build(raw, NtuOptions())
    with pytest.raises(FormatError, match=r"take1\.skeleton \(file name\)"):
        run_job(job, RunOptions(raw=raw, out=tmp_path / "store", workers=1, progress=False))


def test_helpers(tmp_path: Path) -> None:
    assert isinstance(get_preparer("ntu"), NtuPreparer)
    assert parse_preset_options(["a=1", " b = x "]) == {"a": "1", "b": "x"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_preset_options(["oops"])
    assert detect_benchmark(["S001C001P001R001A060.skeleton", "junk.skeleton"]) == "ntu60"
    assert detect_benchmark(["S001C001P001R001A061.skeleton"]) == "ntu120"
    assert detect_benchmark(["S018C001P001R001A001.skeleton"]) == "ntu120"
    with pytest.raises(ConfigError, match=r"no \.skeleton files"):
        find_skeleton_files(tmp_path)
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "S001C001P001R001A001.skeleton").write_text("0\n")
    with pytest.raises(ConfigError, match="present twice"):
        find_skeleton_files(tmp_path)
    single = tmp_path / "a" / "S001C001P001R001A001.skeleton"
    assert find_skeleton_files(single) == [str(single)]


def test_info_shows_the_preset(raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "store"
    assert _prepare(raw, out, "--preset", "agcn", "--val-fraction", "0") == 0
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    text = capsys.readouterr().out
    assert "agcn" in text and json.loads(text)


@pytest.mark.parametrize("config", ["ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset"])
def test_data_configs_load_against_a_prepared_store(raw: Path, tmp_path: Path, config: str) -> None:
    import yaml

    from skelact.data.datamodule import SkeletonDataModule

    configs = Path(__file__).resolve().parents[3] / "configs" / "data"
    data = yaml.safe_load((configs / f"{config}.yaml").read_text())["data"]
    # NTU configs leave normalize to the store's preset (the datamodule reads the recorded value).
    synthetic = set(yaml.safe_load((configs / "synthetic3d.yaml").read_text())["data"])
    assert "normalize" not in data and set(data) | {"normalize"} == synthetic
    benchmark = config.split("_")[0]
    rng = np.random.default_rng(0)
    for name in (
        "S018C001P045R001A061",
        "S020C002P050R002A100",
        "S022C003P046R001A001",
        "S019C001P060R001A007",
    ):
        frames = [[(1, rng.normal(0, 0.3, (25, 3)))] for _ in range(20)]  # more NTU-120 training samples
        write_ntu_skeleton(raw / f"{name}.skeleton", NtuRecording.from_frames(frames, name=name))
    out = tmp_path / "store"
    assert _prepare(raw, out, "--benchmark", benchmark, "--val-fraction", "0.3") == 0
    module = SkeletonDataModule(**{**data, "store": str(out), "num_workers": 0, "batch_size": 2})
    assert module.train_split == data["train_split"] and module.test_split.endswith("_test")
    assert module.spec.normalize == "center_align"  # what the default pyskl preset recorded
    batch = next(iter(module.train_dataloader()))
    assert len(batch) > 0
