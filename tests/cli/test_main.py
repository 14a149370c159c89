"""The `skelact` command: dispatch, one-line errors, prepare, info, fit/test artefacts and predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import COMMANDS, LIGHTNING_COMMANDS, main
from skelact.errors import SkelactError


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("skelact: error:")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def help_examples(text: str) -> dict[str, list[str]]:
    """Command -> the words of its example in `skelact --help` (continuation lines joined)."""
    examples: dict[str, list[str]] = {}
    joined = text.replace("\\\n", " ")
    for line in joined.splitlines():
        words = line.split()
        if len(words) > 1 and words[0] == "skelact":
            examples.setdefault(words[1], words[2:])
    return examples


def test_help_lists_every_command_with_an_example_its_parser_knows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    examples = help_examples(out)
    assert set(examples) == {*LIGHTNING_COMMANDS, *COMMANDS}
    for command in COMMANDS:
        words = examples[command]
        sub = [words[0]] if command == "prepare" else []  # a recipe's flags are its subcommand's
        with pytest.raises(SystemExit):
            main([command, *sub, "--help"])
        usage = capsys.readouterr().out
        for flag in (w.split("=")[0] for w in words if w.startswith("--")):
            assert flag in usage, f"skelact --help: `{command}` example uses {flag}, not in its --help"
    for command in LIGHTNING_COMMANDS:
        assert "--config" in examples[command]


def test_unknown_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "train")
    assert_one_line_error(code, err, "unknown command 'train'", "fit")


def test_missing_config_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "fit", "--config", str(tmp_path / "nope.yaml"))
    assert_one_line_error(code, err, "nope.yaml")


def test_bad_config_key_is_one_line(
    capsys: pytest.CaptureFixture[str], synthetic_store_3d: Path, tmp_path: Path
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("model:\n  learning_rate: 0.1\n")
    code, _, err = run(capsys, "fit", "--config", str(config), "--data.store", str(synthetic_store_3d))
    assert_one_line_error(code, err, "learning_rate")


def test_missing_store_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "fit", "--data.store", str(tmp_path / "no_store"))
    assert_one_line_error(code, err, "no_store", "skelact prepare")


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    with pytest.raises(SkelactError):
        main(["info", str(tmp_path / "missing"), "--debug"])


def test_prepare_synthetic_and_info(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "store"
    code, out, _ = run(
        capsys, "prepare", "synthetic", "--out", str(out_dir), "--per-class", "2", "--dims", "2"
    )
    assert code == 0
    assert "layout coco17" in out and "test" in out
    code, out, _ = run(capsys, "info", str(out_dir))
    assert code == 0
    assert "coco17" in out and "scores yes" in out and "wave" in out
    code, out, _ = run(capsys, "info", str(out_dir), "--json")
    summary = json.loads(out)
    assert summary["samples"] == 24 and summary["layout"]["joints"] == 17
    assert sum(summary["splits"][name] for name in ("train", "val", "test")) == 24
    assert summary["per_class"]["test"][0] + summary["per_class"]["train_full"][0] == 2
    assert summary["frames"]["p0"] <= summary["frames"]["p50"] <= summary["frames"]["p100"]
    assert summary["provenance"]["recipe"] == "synthetic"
    # A second prepare into the same place refuses rather than overwriting silently.
    code, _, err = run(capsys, "prepare", "synthetic", "--out", str(out_dir), "--per-class", "2")
    assert_one_line_error(code, err, str(out_dir))


def test_prepare_rejects_bad_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "prepare", "synthetic", "--out", str(tmp_path / "s"), "--dims", "4")
    assert_one_line_error(code, err, "--dims")


def test_fit_and_test_write_the_run_directory(trained_run: dict[str, Path]) -> None:
    run_dir = trained_run["run_dir"]
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list((run_dir / "checkpoints").glob("best-*.ckpt"))
    assert (run_dir / "metrics.csv").is_file()
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert (run_dir / "config.yaml").is_file()
    test_dir = trained_run["test_dir"]
    metrics = json.loads((test_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["top1"] <= metrics["top5"] <= 1.0
    assert set(metrics["per_class_accuracy"]) >= {"wave", "clap", "throw"}
    for figure in ("confusion_matrix.png", "per_class_accuracy.png"):
        assert (test_dir / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with np.load(test_dir / "scores.npz") as scores:
        assert scores["probs"].shape == (metrics["num_samples"], 12)
        assert len(set(scores["sample_ids"].tolist())) == metrics["num_samples"]


def test_predict_on_a_store_prints_named_top_k(
    capsys: pytest.CaptureFixture[str], trained_run: dict[str, Path]
) -> None:
    code, out, _ = run(
        capsys,
        "predict",
        "--ckpt",
        str(trained_run["ckpt"]),
        "--input",
        str(trained_run["store"]),
        "--split",
        "test",
        "--top-k",
        "3",
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[-1].startswith("top-1 ")
    first = lines[0]
    assert first.startswith("syn_") and "[true: " in first
    assert len(first.split(":")[1].split("[")[0].split()) == 6  # three (name, probability) pairs


def test_predict_on_a_npy_file(
    capsys: pytest.CaptureFixture[str], trained_run: dict[str, Path], tmp_path: Path
) -> None:
    from skelact.data.store import SkeletonStore

    sample = SkeletonStore(trained_run["store"])[0]
    path = tmp_path / "clip.npy"
    np.save(path, sample.keypoint[0])  # (T, V, C): one person
    code, out, _ = run(capsys, "predict", "--ckpt", str(trained_run["ckpt"]), "--input", str(path))
    assert code == 0
    assert out.startswith("clip: ")


def test_predict_refuses_a_store_of_another_layout(
    capsys: pytest.CaptureFixture[str], trained_run: dict[str, Path], synthetic_store_2d: Path
) -> None:
    code, _, err = run(
        capsys, "predict", "--ckpt", str(trained_run["ckpt"]), "--input", str(synthetic_store_2d)
    )
    assert_one_line_error(code, err, "coco17", "ntu25")


@pytest.mark.parametrize(
    ("shape", "fragment"),
    [((0, 25, 3), "empty sequence"), ((10, 17, 3), "17 joints"), ((10, 25, 2), "coordinates")],
)
def test_predict_refuses_bad_arrays(
    capsys: pytest.CaptureFixture[str],
    trained_run: dict[str, Path],
    tmp_path: Path,
    shape: tuple[int, ...],
    fragment: str,
) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, np.ones(shape, dtype=np.float32))
    code, _, err = run(capsys, "predict", "--ckpt", str(trained_run["ckpt"]), "--input", str(path))
    assert_one_line_error(code, err, fragment)


def test_predict_missing_checkpoint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "predict", "--ckpt", str(tmp_path / "x.ckpt"), "--input", str(tmp_path))
    assert_one_line_error(code, err, "x.ckpt")


def test_an_error_raised_in_a_loader_worker_is_one_plain_line(capsys: pytest.CaptureFixture[str]) -> None:
    """torch re-raises a worker's exception with the worker's traceback as its message."""
    from torch.utils.data import DataLoader, Dataset

    from skelact.errors import FormatError

    class Broken(Dataset):
        def __len__(self) -> int:
            return 1

        def __getitem__(self, index: int) -> int:
            raise FormatError("non-finite coordinate in sample 0 (S001)", path="store")

    def command(_: list[str]) -> int:
        for _batch in DataLoader(Broken(), num_workers=1):
            pass
        return 0

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("skelact.cli.main._lazy", lambda module, function: command)
        assert main(["info", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "DataLoader worker" not in err
    assert "non-finite coordinate in sample 0 (S001)" in err
