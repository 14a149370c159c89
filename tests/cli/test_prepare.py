"""`skelact prepare`: every recipe through the one registry, flags generated from its option records."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from skelact.cli.main import main
from skelact.data.prepare.registry import load_preparers

SRC = Path(__file__).resolve().parents[2] / "src" / "skelact"


@pytest.mark.parametrize("name", list(load_preparers()))
def test_every_recipe_has_an_informative_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: skelact prepare {name}") and load_preparers()[name].help[:30] in out
    options = [line.split()[0] for line in out.splitlines() if line.startswith("  --")]
    assert len(options) >= 5  # every recipe takes where to read or write, and more


def test_the_flags_users_already_type_are_all_there(capsys: pytest.CaptureFixture[str]) -> None:
    expected = {
        "synthetic": "--out --per-class --seed --dims --subjects --overwrite",
        "longtail": "--store --split --n-max --rho --seed --list --name --overwrite",
        "ntu": "--preset --benchmark --missing-list --faithful --preset-option",
        "pyskl": "--layout --class-names --num-classes --kpfiles --box-thr",
        "ctrgcn-npz": "--dataset --protocol --class-names",
        "agcn": "--layout --class-names --num-classes --protocol",
        "kinetics": "--labels --split-name --max-frames --buffer-persons --max-persons --coords --flip-y "
        "--frame-base",
        "nw-ucla": "--train-views --test-views",
        "jhmdb": "",
        "shrec17": "--labels",
        "custom-npy": "--labels --layout --class-names --test-fraction --score-channel",
        "keypoint-table": "--labels --layout --class-names --test-fraction",
    }
    common = "--raw --out --workers --skip-bad --val-fraction --seed --overwrite --no-progress"
    for name, flags in expected.items():
        with pytest.raises(SystemExit):
            main(["prepare", name, "--help"])
        out = capsys.readouterr().out
        wanted = flags.split() + ([] if name in ("synthetic", "longtail") else common.split())
        for flag in wanted:
            assert f"  {flag} " in out or f"  {flag}\n" in out, (name, flag)


def test_a_bad_value_is_one_error_naming_the_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = [
        (["synthetic", "--out", str(tmp_path / "s"), "--per-class", "0"], "--per-class must be at least 1"),
        (["nw-ucla", "--raw", str(tmp_path), "--out", str(tmp_path / "s"), "--workers", "0"], "--workers"),
        (["nw-ucla", "--raw", str(tmp_path), "--out", "s", "--test-views", "1"], "both --train-views and"),
        (["ntu", "--raw", str(tmp_path), "--out", "s", "--preset-option", "x"], "--preset-option expects"),
        (["longtail", "--store", str(tmp_path), "--split", "train", "--rho", "10"], "--n-max and --rho are"),
        (["pyskl", "--raw", str(tmp_path), "--out", "s", "--num-classes", "0"], "--num-classes must be"),
        (
            ["custom-npy", "--raw", str(tmp_path), "--out", "s", "--layout", "ntu25", "--test-fraction", "1"],
            "--test-fraction must",
        ),
    ]
    for args, text in cases:
        assert main(["prepare", *args]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and text in err, err
        assert "`" not in err, err  # every option name was shown as its flag
    assert not (tmp_path / "s").exists()


def test_synthetic_and_longtail_print_what_they_wrote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert main(["prepare", "synthetic", "--out", str(store), "--per-class", "3", "--dims", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {store}: 36 samples, layout coco17, splits: train ")
    args = ["prepare", "longtail", "--store", str(store), "--split", "train_full", "--n-max", "2"]
    assert main([*args, "--rho", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"wrote split train_full_lt2 into {store}: ")
    assert lines[-1].startswith("  warning: ") and lines[-1].endswith("do not select models on val")


def test_nothing_under_data_imports_argparse() -> None:
    for path in (SRC / "data").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert "argparse" not in imported, path


def test_synthetic_reports_its_validation_carve(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "store"
    args = ["prepare", "synthetic", "--out", str(store), "--per-class", "10", "--val-by", "class"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("validation 'val' from 'train' (stratified by class): ")
    assert lines[2].startswith("warning: 'val' holds only ")
