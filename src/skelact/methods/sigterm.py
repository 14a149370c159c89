"""What a training run does on SIGTERM, the signal schedulers, containers and `kill` send before killing it.

Lightning notices the signal and stops at its next safe point: after the current training batch, between
two evaluation batches, or after the epoch's validation and checkpoint; `fit` then ends with
`SIGTERMException`. Stopped in training, the run's state at that point is written as `checkpoints/last.ckpt`
(where is printed); stopped during validation, nothing is written, because a resumed run could not redo
the interrupted validation exactly (its metric state is not in checkpoints) and would select on part of
it: `last.ckpt` then stays the previous epoch's. `skelact fit` exits with 143 (128 + SIGTERM, what a process
killed by the signal reports) so schedulers and scripts see that the run did not finish, and
`skelact fit ... --ckpt_path last` continues it.

A mid-epoch checkpoint restores weights, optimiser, schedule, step and augmentation exactly, but not the
position in the epoch's data: Lightning can skip the batches already trained only for a loader with
`state_dict`/`load_state_dict`, which the datamodule's is not, so the resumed epoch reads its order from the
start again for the batches left (Lightning warns). Epoch-end checkpoints resume exactly.

Loader workers: schedulers signal every process of a job, and a torch loader worker dies on SIGTERM, upon
which torch raises "DataLoader worker is killed" in the main process at an arbitrary point of the batch. On
SIGTERM that check is turned off, so the batch in progress (already in memory) finishes and the checkpoint
holds a consistent state; a signal at an epoch's start stops the run before the loader restarts its
(dead) workers, with `last.ckpt`, the previous epoch's, as its state.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from skelact.evaluation.selection import SelectionCheckpoint

EXIT_CODE = 128 + int(signal.SIGTERM)
_received = threading.Event()  # process-wide, like the signal itself


def received_sigterm() -> bool:
    """Whether this process got SIGTERM while a skelact fit was running."""
    return _received.is_set()


class CheckpointOnSigterm(L.Callback):
    """Writes last.ckpt when a fit stopped by SIGTERM stops in training; `written` holds its path."""

    def __init__(self) -> None:
        self.written: str | None = None
        self._epoch_untouched = True  # no batch trained since the epoch started: last.ckpt is this state

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        _received.clear()  # a signal noted by an earlier fit of this process is not this fit's

    # Lightning installs its SIGTERM handler after on_fit_start; these hooks run after that, before any batch.
    def on_sanity_check_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        _wrap_sigterm_handler()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        _wrap_sigterm_handler()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_untouched = True
        if received_sigterm():  # stop before the loader restarts its (possibly signalled) workers
            raise SIGTERMException()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self._epoch_untouched = False

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if trainer.state.fn != TrainerFn.FITTING or not (
            isinstance(exception, SIGTERMException) or received_sigterm()
        ):
            return
        where = f"stopped by SIGTERM at epoch {trainer.current_epoch}, step {trainer.global_step}"
        selection = trainer.checkpoint_callback
        # Lightning's stop points in training are consistent; mid-validation (or a loader error) is not.
        in_training = isinstance(exception, SIGTERMException) and trainer.training
        if in_training and not self._epoch_untouched and isinstance(selection, SelectionCheckpoint):
            self.written = selection.save_last_now(trainer)
            _say(trainer, f"skelact: {where}; its state is in {self.written}; continue the run with the same "
                 "command and --ckpt_path last")  # fmt: skip
            return
        folder = getattr(selection, "dirpath", None)
        last = Path(folder) / "last.ckpt" if folder else None
        if last is not None and last.exists():
            _say(trainer, f"skelact: {where}; continue the run from its last checkpoint, {last} (the end of "
                 "the last finished epoch), with the same command and --ckpt_path last")  # fmt: skip
        else:
            _say(trainer, f"skelact: {where}; no checkpoint was written yet: start the run again")


def _wrap_sigterm_handler() -> None:
    """Around Lightning's SIGTERM handler: note the signal and stop torch's loader-worker check."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    handler = signal.getsignal(signal.SIGTERM)
    if not callable(handler) or getattr(handler, "_skelact", False):
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        _received.set()
        # The workers got this SIGTERM too. A no-op, not SIG_DFL: Python raises for a SIGCHLD that is already
        # pending when its handler stops being a function.
        signal.signal(signal.SIGCHLD, _ignore)
        handler(signum, frame)

    on_sigterm._skelact = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, on_sigterm)  # Lightning restores the original handler at teardown


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Worker exits after SIGTERM are expected."""


def _say(trainer: Any, line: str) -> None:
    if trainer.is_global_zero:
        print(line, file=sys.stderr, flush=True)
