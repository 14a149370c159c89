"""The lines `skelact fit` ends with: where the run is, which checkpoint it selected, its score, the pace.

Without them a user had to find the run directory, the selected file and the time per epoch in the logs.
"""

from __future__ import annotations

import os
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from skelact.methods.epoch_timer import EpochTimer


def fit_summary_lines(trainer: L.Trainer) -> list[str]:
    """Run directory, selected checkpoint with its monitored score, and the median time per epoch."""
    checkpoint = trainer.checkpoint_callback
    lines = [f"run directory: {_run_dir(trainer, checkpoint)}"]
    if isinstance(checkpoint, ModelCheckpoint) and checkpoint.best_model_path:
        lines.append(f"selected checkpoint: {checkpoint.best_model_path}")
        lines.append(f"  {_score(trainer, checkpoint)}")
    else:
        lines.append("selected checkpoint: none written")
    timer = next((c for c in trainer.callbacks if isinstance(c, EpochTimer)), None)  # type: ignore[attr-defined]
    median = None if timer is None else timer.median_epoch_seconds
    if median is not None:
        count = len(timer.epoch_seconds)  # type: ignore[union-attr]
        lines.append(
            f"time per epoch: median {_duration(median)} over {count} epoch{'s' * (count != 1)} "
            "(training and validation)"
        )
    return lines


def print_fit_summary(trainer: L.Trainer) -> None:
    """Print the summary once (rank zero) on standard output."""
    if trainer.is_global_zero:
        print("\n".join(fit_summary_lines(trainer)), flush=True)


def _run_dir(trainer: L.Trainer, checkpoint: Any) -> str:
    if trainer.loggers and trainer.loggers[0].log_dir:
        return str(trainer.loggers[0].log_dir)
    dirpath = getattr(checkpoint, "dirpath", None)
    return os.path.dirname(str(dirpath)) if dirpath else str(trainer.default_root_dir)


def _score(trainer: L.Trainer, checkpoint: ModelCheckpoint) -> str:
    """The selected epoch's monitored value; for last-epoch selection, the last validation top-1 if any."""
    if checkpoint.monitor is not None and checkpoint.best_model_score is not None:
        return f"{checkpoint.monitor} {float(checkpoint.best_model_score):.4f} (the selection rule's score)"
    value = trainer.callback_metrics.get("val/top1")
    last = "the last epoch is selected"
    return last if value is None else f"val/top1 {float(value):.4f} ({last})"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"
