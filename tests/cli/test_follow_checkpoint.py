"""`skelact test` and `validate` follow the checkpoint's pipeline record (issue 19 item 3): fit overrides need
not be retyped, and a command-line data option that contradicts the checkpoint is one line unless forced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from skelact.cli.follow_checkpoint import (
    EVALUATION_OPTIONS,
    PIPELINE_OPTIONS,
    follow_checkpoint,
    pop_force_flag,
)
from skelact.cli.main import main
from skelact.data.clips import ClipSpec
from skelact.errors import ConfigError
from skelact.methods.supervised import SupervisedClassifier

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# The config files of the tiny fit (tests/conftest.py), without any of its command-line overrides.
FIT_CONFIGS = [
    "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
    "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
    "--config", str(CONFIGS / "model" / "stgcn.yaml"),
]  # fmt: skip


def checkpoint(clip_len: int = 16, max_persons: int = 2, **hparams: Any) -> dict[str, Any]:
    """The parts of a checkpoint that test follows: a pipeline record and the method's hyper-parameters."""
    record = {
        "model": "stgcn",
        "layout": {"name": "ntu25"},
        "num_classes": 2,
        "num_channels": 3,
        "num_coords": 3,
        "num_persons": max_persons,
        "class_names": ["a", "b"],
        "data": {"clip": ClipSpec(clip_len=clip_len, max_persons=max_persons).to_dict(), "store": None},
    }
    return {"skelact": record, "hyper_parameters": {"model": "stgcn", "num_classes": 2, **hparams}}


def option(args: list[str], name: str) -> str | None:
    """The last value of `name` in `args`, as LightningCLI reads it."""
    values = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == name]
    return values[-1] if values else None


def test_every_clip_setting_is_either_followed_strictly_or_an_evaluation_choice() -> None:
    """A new ClipSpec field must be placed in one of the two lists, or test would not follow it."""
    assert set(PIPELINE_OPTIONS) | set(EVALUATION_OPTIONS) == set(ClipSpec.__dataclass_fields__)
    assert not set(PIPELINE_OPTIONS) & set(EVALUATION_OPTIONS)


def test_the_checkpoint_wins_over_the_configs_and_says_so() -> None:
    args, notes = follow_checkpoint(
        ["test", *FIT_CONFIGS], checkpoint(clip_len=16), "c.ckpt", SupervisedClassifier
    )
    assert option(args, "--data.clip_len") == "16" and option(args, "--data.max_persons") == "2"
    assert option(args, "--data.with_score") == "false" and option(args, "--data.num_test_clips") == "1"
    assert "clip_len 16" in notes[0] and "instead of the configs' clip_len 32" in notes[0]


def test_a_contradicting_data_option_is_one_error_naming_both_values() -> None:
    given = ["test", *FIT_CONFIGS, "--data.clip_len", "64", "--data.max_persons=1"]
    with pytest.raises(ConfigError) as caught:
        follow_checkpoint(given, checkpoint(clip_len=32), "c.ckpt", SupervisedClassifier)
    message = str(caught.value)
    assert "--data.clip_len 64 (the checkpoint's is 32)" in message
    assert "--data.max_persons 1 (the checkpoint's is 2)" in message
    assert (
        "c.ckpt was trained with another input pipeline" in message
        and "--force-pipeline" in caught.value.hint
    )


def test_forced_and_agreeing_and_evaluation_options_stay_as_given() -> None:
    given = ["test", "--data.clip_len", "64", "--data.max_persons", "2", "--data.num_test_clips", "5"]
    args, notes = follow_checkpoint(
        given, checkpoint(clip_len=32), "c.ckpt", SupervisedClassifier, force=True
    )
    assert option(args, "--data.clip_len") == "64" and option(args, "--data.num_test_clips") == "5"
    assert args.count("--data.max_persons") == 1  # the agreeing value is not repeated
    assert notes[0] == "--force-pipeline: evaluating with --data.clip_len 64 (the checkpoint's is 32)"


def test_method_arguments_come_from_the_checkpoint_except_data_facts_and_evaluation_choices() -> None:
    saved = checkpoint(model_args={"base_channels": 8}, modality="b", report_dir="/fit/report", lr=0.5)
    args, _ = follow_checkpoint(["test", "--model.lr", "0.1"], saved, "c.ckpt", SupervisedClassifier)
    assert json.loads(option(args, "--model.model_args") or "") == {"base_channels": 8}
    assert option(args, "--model.modality") == "b" and option(args, "--model.model") == "stgcn"
    assert option(args, "--model.lr") == "0.1"  # the command line wins
    assert "--model.num_classes" not in args  # linked from the store
    assert "--model.report_dir" not in args  # where this test writes is this command's choice


def test_force_pipeline_applies_to_evaluation_only() -> None:
    assert pop_force_flag(["test", "--force-pipeline", "--x", "1"]) == (["test", "--x", "1"], True)
    with pytest.raises(ConfigError, match="--force-pipeline applies to `skelact test`"):
        pop_force_flag(["fit", "--force-pipeline"])


def test_a_contradicting_clip_len_at_test_time_is_one_line(
    trained_run: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tiny run was fit on 16-frame clips: asking test for 64 used to run silently."""
    args = ["test", *FIT_CONFIGS, "--trainer.default_root_dir", str(tmp_path / "runs")]
    code = main([*args, "--ckpt_path", str(trained_run["ckpt"]), "--data.clip_len", "64"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("skelact: error: --data.clip_len 64 (the checkpoint's is 16)"), line
    assert not (tmp_path / "runs").exists()  # refused before any run directory was made


def test_test_without_the_fit_overrides_reproduces_the_fit_pipeline(
    trained_run: dict[str, Path], tmp_path: Path
) -> None:
    """The run was fit with `--data.clip_len 16 --model.model_args {base_channels: 8} --data.store S`; testing
    its run directory with the bare configs reproduces the test that retyped them (conftest's trained_run)."""
    root, report = tmp_path / "runs", tmp_path / "report"
    args = ["test", *FIT_CONFIGS, "--trainer.default_root_dir", str(root), "--trainer.precision", "32-true",
            "--trainer.enable_progress_bar", "false", "--ckpt_path", str(trained_run["run_dir"]),
            "--report", "last", "--model.report_dir", str(report), "--model.report_worst", "0"]  # fmt: skip
    assert main(args) == 0
    config = yaml.safe_load((root / "version_0" / "config.yaml").read_text())
    assert config["data"]["clip_len"] == 16 and config["data"]["store"] == str(trained_run["store"])
    assert config["model"]["model_args"] == {"base_channels": 8}
    retyped = json.loads((trained_run["test_dir"] / "metrics.json").read_text())
    followed = json.loads((report / "metrics.json").read_text())  # the given report_dir is honoured
    assert followed["top1"] == pytest.approx(retyped["top1"])
    assert followed["per_class_accuracy"] == pytest.approx(retyped["per_class_accuracy"])
