"""The `skelact` command: skeleton-based action recognition, from raw files to predictions.

Commands (`skelact COMMAND --help` lists each one's options):

  prepare   raw skeleton files -> a packed store (one subcommand per dataset format)
              skelact prepare custom-npy --raw my_clips --layout body16.yaml --out stores/my_clips
  info      summarise a store: splits, classes, lengths, layout, provenance
              skelact info stores/my_clips
  fit       train a model (LightningCLI: composed --config files, any key overridable)
              skelact fit --config configs/trainer/cpu.yaml --config configs/model/stgcn.yaml \
                  --config configs/data/my_clips.yaml --trainer.default_root_dir runs/my_clips
  validate  evaluate a run's selected checkpoint on the validation split (the fit's configs rebuild it)
              skelact validate --config configs/trainer/cpu.yaml --config configs/model/stgcn.yaml \
                  --config configs/data/my_clips.yaml --ckpt_path runs/my_clips/version_0
  test      evaluate a run's selected checkpoint once on the test split (metrics.json, plots, scores)
              skelact test --config configs/trainer/cpu.yaml --config configs/model/stgcn.yaml \
                  --config configs/data/my_clips.yaml --ckpt_path runs/my_clips/version_0
  predict   top-k actions for a store split or a clip file, from the checkpoint alone
              skelact predict --ckpt runs/my_clips/version_0/checkpoints/last.ckpt --input clip.npy
  render    animate a sample (GIF or MP4) with its true and predicted label
              skelact render stores/my_clips --sample clip_000 --out clip_000.gif
  video     recognise actions in a video: pose extraction, tracking, sliding windows
              skelact video talk.mp4 --ckpt model.ckpt --out talk_labelled.mp4
  export    a checkpoint as ONNX or TorchScript (keypoints in, logits out)
              skelact export --ckpt model.ckpt --format onnx --out model.onnx
  ensemble  fuse the score files of several streams (joint, bone, motion, ...)
              skelact ensemble j/scores.npz b/scores.npz jm/scores.npz bm/scores.npz --preset pyskl
  knn       k-nearest-neighbour accuracy of a checkpoint's features (self-supervised evaluation)
              skelact knn --ckpt pretrain.ckpt --store stores/ntu60 --gallery-split xsub_train
  semi      the semi-supervised protocol: repeated fits on fractions of the labels
              skelact semi --out runs/semi --fractions 1,10 FIT_ARGUMENTS...

Every error the user can fix is printed as one line with a hint and a non-zero exit; `--debug` anywhere on the
command line shows the traceback instead. Output piped into a reader that stops early (`skelact info S |
head`) ends quietly with status 141, as a command killed by SIGPIPE would.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence

from skelact.errors import SkelactError

EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`, whose reader left early
LIGHTNING_COMMANDS = ("fit", "validate", "test")
# The other commands: name -> (module, function taking the remaining arguments), imported when they run.
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("skelact.cli.prepare", "run_prepare"),
    "predict": ("skelact.cli.predict", "run_predict"),
    "info": ("skelact.cli.info", "run_info"),
    "ensemble": ("skelact.cli.ensemble", "run_ensemble"),
    "video": ("skelact.cli.video", "run_video"),
    "render": ("skelact.cli.render", "run_render"),
    "export": ("skelact.cli.export", "run_export"),
    "knn": ("skelact.cli.knn", "run_knn"),
    "semi": ("skelact.cli.semi", "run_semi"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a reader that left early shows here, not as a traceback at interpreter exit
        return code
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # a pipe of something else (a socket, a child process): not the reader leaving
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit flush goes nowhere
        return EXIT_BROKEN_PIPE
    except SkelactError as err:
        if debug:
            raise
        return _fail(_unwrap_worker_error(str(err)))
    except argparse.ArgumentError as err:
        if debug:
            raise
        return _fail(f"{err}", hint="check the option names with `skelact <command> --help`")
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        if debug:
            raise
        return _fail(f"{err.strerror}: {err.filename}")
    except KeyboardInterrupt:
        return _fail("interrupted")


def _fail(message: str, hint: str | None = None) -> int:
    line = f"skelact: error: {message}"
    if hint:
        line += f" (hint: {hint})"
    print(line.replace("\n", " "), file=sys.stderr)
    return EXIT_USER_ERROR


def _unwrap_worker_error(message: str) -> str:
    """The error itself out of torch's DataLoader-worker wrapping ("Caught FormatError in DataLoader worker
    process 0. Original Traceback ...: skelact.errors.FormatError: <message>"), which re-raises the same type
    with the worker's whole traceback as its text."""
    if "in DataLoader worker" not in message or "Original Traceback" not in message:
        return message
    last = [line for line in message.strip().splitlines() if line.strip()][-1]
    for prefix in ("skelact.errors.", ""):
        for name in ("SkelactError", "FormatError", "LayoutError", "ConfigError"):
            if last.startswith(f"{prefix}{name}: "):
                return last.removeprefix(f"{prefix}{name}: ")
    return last


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (`skelact info STORE | head -1`)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False  # replaced by an in-memory stream: the broken pipe was another one
    import select

    if not hasattr(select, "poll"):  # Windows: no poll; a broken pipe while printing is stdout's
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    command, rest = args[0], args[1:]
    if command in LIGHTNING_COMMANDS:
        from skelact.cli.lightning import run_lightning

        run_lightning([command, *rest])
        return 0
    if command not in COMMANDS:
        known = ", ".join([*LIGHTNING_COMMANDS, *COMMANDS])
        raise SkelactError(f"unknown command {command!r}", hint=f"commands: {known}")
    return _lazy(*COMMANDS[command])(rest)


def _lazy(module: str, function: str) -> Callable[[list[str]], int]:
    """Import a command only when it runs, so `skelact --help` and data commands start fast."""

    def run(args: list[str]) -> int:
        import importlib

        return getattr(importlib.import_module(module), function)(args)

    return run


def positive_int(text: str) -> int:
    """argparse type for counts and sizes (`--top-k`, `--clip-len`): 0 or less is an error, not a default."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type for rates (`--fps`): a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


class QuietArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so errors stay one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise SkelactError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


if __name__ == "__main__":
    sys.exit(main())
