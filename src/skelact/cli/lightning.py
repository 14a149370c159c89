"""`skelact fit | validate | test` through LightningCLI, with the data's facts linked into the method.

The method (the LightningModule) is chosen by name, `method: NAME` in a config or `--method NAME`, from the
registry in `skelact.methods.registry`; its `linked_from_data` says which of its arguments come from the
store. Everything under `model:` is that method's arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import warnings
from typing import Any
from unittest import mock

from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from skelact.cli.config_files import config_file_value
from skelact.cli.config_order import lowered_data_warnings
from skelact.cli.fit_summary import print_fit_summary
from skelact.cli.follow_checkpoint import (
    FOLLOWING_SUBCOMMANDS,
    follow_checkpoint,
    pop_force_flag,
    recorded_method,
)
from skelact.cli.progress import progress_bar
from skelact.cli.quiet import quiet_lightning
from skelact.cli.resume import Resume, newest_hpc_checkpoint, resolve_resume
from skelact.data.datamodule import SkeletonDataModule
from skelact.errors import ConfigError
from skelact.evaluation.selection import REPORTS, SelectionCheckpoint, resolve_checkpoint
from skelact.inference.pipeline import CHECKPOINT_KEY, load_checkpoint
from skelact.methods.budget import BUDGET_HELP, budget_callbacks
from skelact.methods.epoch_timer import EpochTimer
from skelact.methods.exact_resume import KeepSelectionOnResume, RestartLoaderOnResume
from skelact.methods.finite_loss import StopOnNonFiniteLoss
from skelact.methods.registry import DEFAULT_METHOD, get_method
from skelact.methods.sigterm import EXIT_CODE, CheckpointOnSigterm, received_sigterm
from skelact.methods.speed import auto_precision, tune_allocator

# "Seed set to N" would precede every one-line error; the seed is in the run's config.yaml anyway.
logging.getLogger("lightning.fabric.utilities.seed").setLevel(logging.WARNING)
quiet_lightning()  # Lightning's tip and an internal deprecation on every run (skelact.cli.quiet says why)


class SkelactCLI(LightningCLI):
    def __init__(
        self, *args: Any, report: str | None = None, checked_ckpt: str | None = None, **kwargs: Any
    ) -> None:
        self.report = report  # read by before_test / before_validate, which run inside super().__init__
        self.checked_ckpt = checked_ckpt  # the command line's --ckpt_path, already checked by build_cli
        self.command_line: list[str] = list(kwargs.get("args") or [])  # read by the config-order guard
        super().__init__(*args, **kwargs)

    def _parse_ckpt_path(self) -> None:
        """Test and validate took the checkpoint's arguments in `build_cli` (cli/follow_checkpoint.py), after
        the configs and before the command line; Lightning's restore would override the command line too."""
        if self.config.get("subcommand") not in FOLLOWING_SUBCOMMANDS:
            super()._parse_ckpt_path()

    def before_fit(self) -> None:
        self._load_safely()

    def after_fit(self) -> None:
        print_fit_summary(self.trainer)

    def before_test(self) -> None:
        self._resolve_checkpoint()
        self._load_safely()

    def before_validate(self) -> None:
        self._resolve_checkpoint()
        self._load_safely()

    def _resolve_checkpoint(self) -> None:
        """`--ckpt_path RUN_DIR [--report selected|last]` -> the checkpoint file (evaluation/selection.py)."""
        config = self.config_init[self.subcommand]
        resolved = resolve_checkpoint(config.get("ckpt_path"), self.report)
        if resolved != config.get("ckpt_path"):
            rank_zero_info(f"testing {resolved}")
        config["ckpt_path"] = resolved

    def _load_safely(self) -> None:
        """Checkpoints load with `weights_only=True` on every torch version (no pickled code runs), and only
        from local files: Lightning would load an http(s) path with `weights_only=False`."""
        config = self.config_init[self.subcommand]
        config["weights_only"] = True
        if config.get("ckpt_path") != self.checked_ckpt:  # a resolved run directory, or a config's path
            check_checkpoint_path(config.get("ckpt_path"))

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Any]) -> Any:
        # Added here, not in the defaults, so `--trainer.enable_progress_bar false` stays valid.
        if (
            config.get("enable_progress_bar") is not False
            and os.environ.get("SKELACT_PLAIN_PROGRESS") is None
        ):
            callbacks = [*callbacks, progress_bar(sys.stdout)]  # rich on a terminal, lines otherwise
        callbacks = [*callbacks, *budget_callbacks(self.subcommand, self.config_init)]  # --budget
        if config.get("precision") is None:  # not set by any config or flag: the machine's fastest
            config["precision"] = auto_precision(config.get("accelerator"))
            rank_zero_info(f"trainer.precision not set: using {config['precision']} (skelact.methods.speed)")
        return super()._instantiate_trainer(config, callbacks)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument(
            "--method",
            type=str,
            default=DEFAULT_METHOD,
            help="the method to train or test: a registered name (skelact.methods.registry) or "
            "package.module:Class; its arguments go under model:",
        )
        linked: dict[str, str] = getattr(self.model_class, "linked_from_data", {})
        for argument, attribute in linked.items():
            parser.link_arguments(f"data.{attribute}", f"model.{argument}", apply_on="instantiate")
        parser.add_argument(
            "--lr_reference_batch",
            type=int | None,
            default=None,
            help="Total batch size that model.lr is meant for. When set, lr is scaled linearly to the actual "
            "total batch, data.batch_size x devices x num_nodes x accumulate_grad_batches (Goyal et al. "
            "2017; PYSKL). Recipes set it; plain configs leave it off.",
        )
        parser.add_argument("--budget", type=str | None, default=None, help=BUDGET_HELP)

    def instantiate_classes(self) -> None:
        super().instantiate_classes()
        for line in lowered_data_warnings(self.command_line, self.datamodule):
            rank_zero_warn(line)
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        scale_lr_to_total_batch(self.model, self.datamodule, self.trainer, config.get("lr_reference_batch"))


# `--ckpt_path` values that Lightning resolves itself to a checkpoint of the run.
LIGHTNING_CKPT_ALIASES = ("last", "best", "hpc", "registry")


def check_checkpoint_path(path: Any) -> dict[str, Any] | None:
    """One clear error for a URL, a missing file, a folder, or a file that does not load as weights only;
    the loaded checkpoint otherwise (None for Lightning's names)."""
    if path is None or str(path) in LIGHTNING_CKPT_ALIASES:
        return None
    text = str(path)
    if "://" in text:
        raise ConfigError(
            f"--ckpt_path {text}: skelact loads checkpoints from local files only",
            hint="download the file, check where it comes from, and pass its path",
        )
    return load_checkpoint(text, trainer_state=True)  # weights_only=True; a SkelactError names file, reason


def scale_lr_to_total_batch(model: Any, datamodule: Any, trainer: Any, reference_batch: int | None) -> None:
    """Rewrite `model.hparams.lr` for the run's total batch; the run's config.yaml keeps the recipe's values.

    Every rank computes the same value from its own trainer, so DDP processes agree without communication.
    """
    if reference_batch is None:
        return
    if reference_batch < 1:
        raise ConfigError(f"lr_reference_batch must be a positive batch size, got {reference_batch}")
    batch, devices, nodes = datamodule.batch_size, trainer.num_devices, trainer.num_nodes
    accumulate = trainer.accumulate_grad_batches
    total = batch * devices * nodes * accumulate
    base = model.hparams.lr
    model.hparams.lr = base * total / reference_batch
    rank_zero_info(
        f"lr {base:g} is for a total batch of {reference_batch}; this run's total batch is {total} "
        f"({batch} per device x {devices} device(s) x {nodes} node(s) x {accumulate} accumulated) "
        f"-> lr {model.hparams.lr:g}"
    )


def default_callbacks() -> list[Any]:
    # Monitor and file names follow the model's `select_on` (best on val by default).
    return [
        SelectionCheckpoint(),
        KeepSelectionOnResume(),
        RestartLoaderOnResume(),
        CheckpointOnSigterm(),
        StopOnNonFiniteLoss(),
        LearningRateMonitor(logging_interval="epoch"),
        EpochTimer(),
    ]


def build_cli(args: list[str], *, run: bool = True) -> SkelactCLI:
    """Build the CLI; `run=False` returns it with model, data and trainer instantiated (used by the demo)."""
    args, report = _pop_report(args)
    args, force_pipeline = pop_force_flag(args)
    root = _find_root_dir(args)
    given = _option_value(args, "--ckpt_path")
    resume: Resume | None = None
    evaluating = args[:1] in (["test"], ["validate"])
    if evaluating:  # a run directory -> its checkpoint now, so that its record can be followed
        given = given if given is not None else _config_value(args, "ckpt_path")
        resolved = resolve_checkpoint(given, report)
        if resolved != given and resolved is not None:
            rank_zero_info(f"testing {resolved}")
            args, given, report = _with_option(args, "--ckpt_path", resolved), resolved, None
    if args[:1] == ["fit"]:
        given = given if given is not None else _config_value(args, "ckpt_path")
        if given is None and SLURMEnvironment.detect():  # a requeued job: Lightning would take this file
            given = newest_hpc_checkpoint(root)
        if given is not None and "://" not in given:  # a URL is refused below
            resume = resolve_resume(given, root)  # `last`, a run directory or a file -> file and run
            given = resume.checkpoint
            args = _with_option(args, "--ckpt_path", given)
    checked, loaded = None, None
    if given is not None and not os.path.isdir(given):  # a run directory is resolved before testing
        loaded = check_checkpoint_path(given)  # before LightningCLI, which reads a fit file's hparams itself
        checked = given
        if args[:1] == ["fit"] and loaded is not None and "optimizer_states" not in loaded:
            raise ConfigError(
                f"--ckpt_path {given}: the checkpoint holds weights only (no optimizer state), so fit cannot "
                "resume from it",
                hint="to start a new run from its weights use --method finetune --model.pretrained FILE",
            )
    if evaluating and loaded is not None and _method_name(args, default=None) is None:
        recorded = recorded_method(loaded)  # the checkpoint's method, unless the command line names one
        args = [*args, "--method", recorded] if recorded else args
    method = get_method(str(_method_name(args)))
    if evaluating and loaded is not None:
        args, notes = follow_checkpoint(args, loaded, str(given), method, force=force_pipeline)
        for note in notes:
            rank_zero_info(note)
    if resume is not None and resume.run_dir is not None and _phase_changes(loaded, method):
        resume = Resume(resume.checkpoint, None)  # a new phase (MoCo -> HaLP) keeps the first phase's run
    purge_step = None
    if resume is not None and resume.run_dir is not None:  # continue the run in its own directory
        root, version = str(resume.run_dir.parent), resume.run_dir.name
        purge_step = _logging_step(loaded or {})
        rank_zero_info(f"resuming {resume.run_dir} from {resume.checkpoint}")
        warnings.filterwarnings("ignore", message="Checkpoint directory .* exists and is not empty")
    else:
        version = _next_version(root)  # both loggers write into one run directory
    logged = {"save_dir": root, "name": "", "version": version, "purge_step": purge_step}
    trainer_defaults = {
        "default_root_dir": root,
        "logger": [
            {
                "class_path": "skelact.cli.run_logs.RunTensorBoardLogger",
                "init_args": {**logged, "default_hp_metric": False},
            },
            {"class_path": "skelact.cli.run_logs.RunCSVLogger", "init_args": logged},
        ],
        "callbacks": default_callbacks(),
        "log_every_n_steps": 10,
        "deterministic": "warn",
    }
    # Both loggers share the fresh run directory on purpose; the CSV logger warns about the TensorBoard file.
    warnings.filterwarnings("ignore", message="Experiment logs directory .* exists and is not empty")
    try:
        # LightningCLI reads sys.argv as well as `args`; hide the outer command line from it.
        with mock.patch.object(sys, "argv", [sys.argv[0]]):
            return SkelactCLI(
                method,
                SkeletonDataModule,
                trainer_defaults=trainer_defaults,
                seed_everything_default=0,
                save_config_kwargs={"overwrite": True},
                parser_kwargs={"exit_on_error": False},
                args=args,
                run=run,
                report=report,
                checked_ckpt=checked,
            )
    except argparse.ArgumentError as err:
        raise ConfigError(
            _first_line(str(err)), hint="check the key names against `skelact fit --help`"
        ) from None


def _phase_changes(checkpoint: dict[str, Any] | None, method: Any) -> bool:
    """Whether resuming `checkpoint` with `method` starts a new training phase (another method, e.g. HaLP
    continuing a MoCo pre-training): it then runs in a new version_N, leaving the earlier phase's
    checkpoints in place, instead of continuing the checkpoint's run directory."""
    record = (checkpoint or {}).get(CHECKPOINT_KEY)
    recorded = record.get("method") if isinstance(record, dict) else None
    return bool(recorded) and recorded != getattr(method, "method_name", recorded)


def composed_config(args: list[str]) -> dict[str, Any]:
    """The configuration `skelact fit ARGS` would run with (what `--print_config` prints), as a dict."""
    import yaml  # a dependency of lightning's CLI

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            build_cli(["fit", *args, "--print_config"])
        except SystemExit as done:  # LightningCLI exits after printing
            if done.code not in (0, None):
                raise ConfigError(f"the configuration does not compose: {out.getvalue()[-500:]}") from None
    return yaml.safe_load(out.getvalue())


def run_lightning(args: list[str]) -> None:
    """Run `skelact fit|validate|test`; a run stopped by SIGTERM exits with 143 (methods/sigterm.py)."""
    tune_allocator()
    try:
        build_cli(args)
    except BaseException as stop:
        if isinstance(stop, SIGTERMException) or received_sigterm():
            raise SystemExit(EXIT_CODE) from None
        raise


def _pop_report(args: list[str]) -> tuple[list[str], str | None]:
    """Take `--report selected|last` (test and validate only) out of the arguments LightningCLI parses."""
    rest, report = list(args), None
    for i, arg in enumerate(rest):
        if arg == "--report" or arg.startswith("--report="):
            value = arg.split("=", 1)[1] if "=" in arg else (rest[i + 1] if i + 1 < len(rest) else "")
            del rest[i : i + (1 if "=" in arg else 2)]
            report = value
            break
    if report is None:
        return rest, None
    if not rest or rest[0] not in ("test", "validate"):
        raise ConfigError("--report applies to `skelact test` and `skelact validate`")
    if report not in REPORTS:
        raise ConfigError(f"unknown --report {report!r}; choose one of {', '.join(REPORTS)}")
    return rest, report


def _method_name(args: list[str], default: str | None = DEFAULT_METHOD) -> str | None:
    """The method a command line names: `--method` wins, else the last config file with `method:`.

    Read before LightningCLI builds its parser, because the parser is built for one method class; the key
    stays in the arguments, so the run's config.yaml records it.
    """
    return _option_value(args, "--method") or _config_value(args, "method") or default


def _find_root_dir(args: list[str]) -> str:
    """The directory of runs: `--trainer.default_root_dir` on the command line, else the last config file
    that sets it, else runs/. The loggers, and so the checkpoints, go into its next version_N."""
    return (
        _option_value(args, "--trainer.default_root_dir")
        or _config_value(args, "trainer", "default_root_dir")
        or "runs"
    )


def _config_value(args: list[str], *keys: str) -> str | None:
    """The value at `keys` in the last `--config` file of a command line that sets it (read before
    LightningCLI parses, as the parser's classes and the run directory depend on it)."""
    value = config_file_value(args, *keys)
    return None if value in (None, "") else str(value)


def _with_option(args: list[str], option: str, value: str) -> list[str]:
    """`args` with `option` set to `value`: its first occurrence replaced, or appended (which overrides the
    config files)."""
    out = list(args)
    for i, arg in enumerate(out):
        if arg.startswith(f"{option}="):
            out[i] = f"{option}={value}"
            return out
        if arg == option and i + 1 < len(out):
            out[i + 1] = value
            return out
    return [*out, option, value]


def _logging_step(checkpoint: dict[str, Any]) -> int:
    """The logging step a checkpoint was written at: logs from that step on are redone by the resumed run."""
    epoch_loop = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_loop.state_dict", {})
    return int(epoch_loop.get("_batches_that_stepped", checkpoint.get("global_step", 0)))


def _option_value(args: list[str], option: str) -> str | None:
    """The first value of `option` on a command line (`--key value` or `--key=value`)."""
    for i, arg in enumerate(args):
        if arg.startswith(f"{option}="):
            return arg.split("=", 1)[1]
        if arg == option and i + 1 < len(args):
            return args[i + 1]
    return None


def _next_version(root: str) -> str:
    existing = [
        int(entry.name.split("_", 1)[1])
        for entry in (os.scandir(root) if os.path.isdir(root) else [])
        if entry.is_dir() and entry.name.startswith("version_") and entry.name.split("_", 1)[1].isdigit()
    ]
    return f"version_{max(existing, default=-1) + 1}"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else "invalid configuration"
