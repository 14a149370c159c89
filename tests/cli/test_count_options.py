"""Counts and rates on the command line are checked where they are parsed (issue 13 item 10): `predict
--top-k 0` printed an empty ranking (later: a traceback), `render --fps 0 / --max-frames 0` crashed and
`render --worst 0` wrote nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from skelact.cli.main import main, positive_float, positive_int


def test_positive_int_and_float() -> None:
    assert positive_int("3") == 3 and positive_float("2.5") == 2.5
    for bad in ("0", "-1", "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_int(bad)
    for bad in ("0", "-0.1", "nan", "inf", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_float(bad)


@pytest.mark.parametrize("value", ["0", "-1"])
def test_predict_top_k_below_one_is_one_line(
    value: str, trained_run: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["predict", "--ckpt", str(trained_run["ckpt"]), "--input", str(trained_run["store"])]
    assert main([*args, "--top-k", value]) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"argument --top-k: must be at least 1, got {value}" in err and err.count("\n") == 1


def test_the_predictor_refuses_top_zero(trained_run: dict[str, Path]) -> None:
    from skelact.data.store import SkeletonStore
    from skelact.errors import ConfigError
    from skelact.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(trained_run["ckpt"])
    with pytest.raises(ConfigError, match="top_k must be at least 1, got 0"):
        predictor.predict_sample(SkeletonStore(trained_run["store"])[0], top_k=0)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--fps", "0", "argument --fps: must be a number above 0, got 0"),
        ("--fps", "-5", "argument --fps: must be a number above 0, got -5"),
        ("--max-frames", "0", "argument --max-frames: must be at least 1, got 0"),
        ("--worst", "0", "argument --worst: must be at least 1, got 0"),
    ],
)
def test_render_counts_below_one_are_one_line(
    option: str, value: str, expected: str, synthetic_store_3d: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "r.gif"
    assert main(["render", str(synthetic_store_3d), "--out", str(out), option, value]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["video", "in.mp4", "--ckpt", "x.ckpt"], "--window"),
        (["video", "in.mp4", "--ckpt", "x.ckpt"], "--stride"),
        (["video", "in.mp4", "--ckpt", "x.ckpt"], "--top-k"),
        (["knn", "--ckpt", "x.ckpt", "--store", "s"], "--k"),
        (["knn", "--ckpt", "x.ckpt", "--store", "s"], "--batch-size"),
        (["semi", "--out", "o"], "--repeats"),
    ],
)
def test_other_counts_below_one_are_one_line(
    command: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, option, "0"]) == 2
    err = capsys.readouterr().err
    assert f"argument {option}: must be at least 1, got 0" in err and err.count("\n") == 1
