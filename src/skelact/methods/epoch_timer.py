"""Wall time per epoch in the run's logs (`time/train_epoch_s`, `time/epoch_s`), for results tables."""

from __future__ import annotations

import statistics
import time
from typing import Any

import lightning as L


class EpochTimer(L.Callback):
    """Logs the seconds of each training epoch, and of the whole epoch including its evaluation.

    `time/train_epoch_s` covers the training batches only; `time/epoch_s` runs from the start of one training
    epoch to the start of the next (or the end of fit), so it includes validation and, with
    `select_on=test_optimistic`, the per-epoch test pass. Lightning's own Timer callback only limits
    durations and logs nothing. `epoch_seconds` keeps this process's full epochs for the closing summary.
    """

    def __init__(self) -> None:
        self._epoch_start: float | None = None
        self._last_epoch: int | None = None
        self.epoch_seconds: list[float] = []

    @property
    def median_epoch_seconds(self) -> float | None:
        """Median of the full epochs timed so far (None before the first one ends): the median, because the
        first epoch also pays for loader start-up and compilation."""
        return statistics.median(self.epoch_seconds) if self.epoch_seconds else None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log_full_epoch(trainer)
        self._epoch_start = time.perf_counter()
        self._last_epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._epoch_start is not None:
            pl_module.log("time/train_epoch_s", time.perf_counter() - self._epoch_start)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log_full_epoch(trainer)

    def _log_full_epoch(self, trainer: L.Trainer) -> None:
        if self._epoch_start is None or self._last_epoch is None:
            return
        seconds = time.perf_counter() - self._epoch_start
        self.epoch_seconds.append(seconds)
        # Outside a LightningModule hook's logging context: write straight to the loggers, keyed by epoch.
        metrics: dict[str, Any] = {"time/epoch_s": seconds, "epoch": self._last_epoch}
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=trainer.global_step)
        self._epoch_start = None
