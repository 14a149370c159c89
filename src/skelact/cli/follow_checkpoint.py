"""`skelact test` and `skelact validate` follow the checkpoint: its pipeline record and its method arguments.

The record (`skelact.inference.pipeline`) says how `fit` cut stored sequences into clips (clip length,
sampling, normalisation, persons, score channel, ...) and which store it read; the checkpoint's
hyper-parameters say how the method and its network were built. Evaluating with a clip length or a person
count other than the trained one runs without any error and silently measures something else, and asking
the user to retype every fit override invites exactly that. So, for test and validate:

- the checkpoint's values are appended after the config files: they win over the configs, and no fit
  override has to be retyped;
- an option given on the command line is the user's choice and stays; a data option that contradicts the
  record (`PIPELINE_OPTIONS`) is one ConfigError naming the option, the checkpoint's value and the given
  value, unless `--force-pipeline` is given;
- evaluation choices (`EVALUATION_OPTIONS`: the number of test clips, batch size, splits, workers) and the
  method's `evaluation_arguments` (report directory, ...) stay free;
- the store is the checkpoint's when it still exists and the command line names none.

Lightning's own restore of the hyper-parameters (`LightningCLI._parse_ckpt_path`) is switched off for these
subcommands: it overrides even the command line (a given `--model.report_dir` was silently dropped) and
reads files only, not run directories.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Mapping
from typing import Any

import yaml

from skelact.cli.config_files import command_line_value, config_file_value
from skelact.errors import ConfigError, SkelactError
from skelact.inference.pipeline import CHECKPOINT_KEY, PipelineRecord, read_record

FORCE_FLAG = "--force-pipeline"
FOLLOWING_SUBCOMMANDS = ("test", "validate")

# Clip settings that change what the network sees (`up_axis` turns 3D coordinates): a command-line value
# that contradicts the record is an error. `crop_ratio` only shapes training crops, and `num_test_clips` is
# an evaluation choice.
PIPELINE_OPTIONS = (
    "clip_len",
    "sampling",
    "normalize",
    "up_axis",
    "max_persons",
    "with_score",
    "valid_frames",
)
EVALUATION_OPTIONS = ("num_test_clips", "crop_ratio")
# Method arguments that choose how an evaluation runs, not what the network is (the default for methods that
# do not declare `evaluation_arguments`).
DEFAULT_EVALUATION_ARGUMENTS = ("report_dir", "report_worst", "compile")


def pop_force_flag(args: list[str]) -> tuple[list[str], bool]:
    """Take `--force-pipeline` out of the arguments LightningCLI parses; it applies to test and validate."""
    if FORCE_FLAG not in args:
        return args, False
    if args[:1] and args[0] not in FOLLOWING_SUBCOMMANDS:
        raise ConfigError(f"{FORCE_FLAG} applies to `skelact test` and `skelact validate`")
    return [arg for arg in args if arg != FORCE_FLAG], True


def follow_checkpoint(
    args: list[str], checkpoint: Mapping[str, Any], source: str, method: type, *, force: bool = False
) -> tuple[list[str], list[str]]:
    """`args` with the checkpoint's data pipeline and method arguments appended where the command line
    gives none, and the lines that say what was taken (for the log).

    Raises ConfigError when a command-line data option contradicts the record and `force` is False.
    """
    extra: list[str] = []
    notes: list[str] = []
    if checkpoint.get(CHECKPOINT_KEY):
        record = read_record(checkpoint, source)
        extra += _data_options(args, record, source, force, notes)
    extra += _method_arguments(args, checkpoint, method)
    return [*args, *extra], notes


def _data_options(
    args: list[str], record: PipelineRecord, source: str, force: bool, notes: list[str]
) -> list[str]:
    clip = record.clip.to_dict()
    contradictions = []
    for key in PIPELINE_OPTIONS:
        given = command_line_value(args, f"--data.{key}")
        if given is not None and not _same(_parsed(given), clip[key]):
            contradictions.append(f"--data.{key} {given} (the checkpoint's is {_shown(clip[key])})")
    if contradictions and not force:
        raise ConfigError(
            f"{'; '.join(contradictions)}: {source} was trained with another input pipeline",
            hint=f"drop the option (test and validate take the checkpoint's), or pass {FORCE_FLAG} to "
            "evaluate with it anyway",
        )
    if contradictions:
        notes.append(f"{FORCE_FLAG}: evaluating with {'; '.join(contradictions)}")
    extra, replaced = [], []
    for key in (*PIPELINE_OPTIONS, *EVALUATION_OPTIONS):
        if command_line_value(args, f"--data.{key}") is not None:
            continue
        configured = config_file_value(args, "data", key)
        if configured is not None and key in PIPELINE_OPTIONS and not _same(configured, clip[key]):
            replaced.append(f"{key} {_shown(configured)}")
        extra += [f"--data.{key}", _shown(clip[key])]
    taken = ", ".join(f"{key} {_shown(clip[key])}" for key in PIPELINE_OPTIONS)
    notes.append(
        f"input pipeline of the checkpoint: {taken}"
        + (f" (instead of the configs' {', '.join(replaced)})" if replaced else "")
    )
    extra += _store_option(args, record, notes)
    return extra


def _store_option(args: list[str], record: PipelineRecord, notes: list[str]) -> list[str]:
    given = command_line_value(args, "--data.store")
    if record.store is None:
        return []
    if given is not None:
        if os.path.abspath(given) != os.path.abspath(record.store):
            notes.append(f"evaluating on the store {given}; the checkpoint was trained on {record.store}")
        return []
    if not os.path.isdir(record.store):
        notes.append(f"the checkpoint's store {record.store} is not there: using the configs' store")
        return []
    return ["--data.store", record.store]


def _method_arguments(args: list[str], checkpoint: Mapping[str, Any], method: type) -> list[str]:
    """The saved hyper-parameters that are arguments of `method`, except the data facts it links from the
    store, its evaluation arguments and those the command line gives."""
    saved = checkpoint.get("hyper_parameters") or {}
    if not isinstance(saved, Mapping):
        return []
    accepted = set(inspect.signature(method.__init__).parameters) - {"self"}
    linked = set(getattr(method, "linked_from_data", {}))
    evaluation = set(getattr(method, "evaluation_arguments", DEFAULT_EVALUATION_ARGUMENTS))
    extra = []
    for key, value in saved.items():
        if key not in accepted or key in linked or key in evaluation:
            continue
        if command_line_value(args, f"--model.{key}") is not None:
            continue
        extra += [f"--model.{key}", _shown(value)]
    return extra


def recorded_method(checkpoint: Mapping[str, Any]) -> str | None:
    """The registered method name a checkpoint's record names, if this skelact knows it."""
    from skelact.methods.registry import get_method

    record = checkpoint.get(CHECKPOINT_KEY)
    name = record.get("method") if isinstance(record, Mapping) else None
    if not isinstance(name, str):
        return None
    try:
        get_method(name)
    except SkelactError:
        return None
    return name


def _parsed(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _same(given: Any, recorded: Any) -> bool:
    """Equal as clip settings: `[0.5, 1]` and `(0.5, 1.0)` are the same crop ratio."""
    if isinstance(recorded, list | tuple):
        try:
            return [float(v) for v in given] == [float(v) for v in recorded]
        except (TypeError, ValueError):
            return False
    if isinstance(recorded, bool) or isinstance(given, bool):
        return given is recorded
    return bool(given == recorded)


def _shown(value: Any) -> str:
    """A value as a command-line argument (YAML, which LightningCLI parses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple | Mapping):
        return json.dumps(list(value) if isinstance(value, tuple) else value, default=str)
    return str(value)
