"""The run's loggers, able to continue a resumed run's logs instead of replacing or duplicating them.

Lightning's CSV logger deletes an existing `metrics.csv` when it starts, and TensorBoard would show the
steps between the checkpoint and the interruption twice. Given `purge_step` (the logging step the resumed
checkpoint was written at), rows and events from that step on are dropped and everything before is kept, so a
resumed run's logs read as the uninterrupted run's.
"""

from __future__ import annotations

import csv
import os
from typing import Any

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

from skelact.atomic import atomic_write


class _ContinuingWriter(ExperimentWriter):
    """Keeps the rows of an existing metrics.csv logged before `purge_step`."""

    def __init__(self, log_dir: str, purge_step: int) -> None:
        self.purge_step = purge_step  # read by _check_log_dir_exists, which the parent's __init__ calls
        super().__init__(log_dir=log_dir)

    def _check_log_dir_exists(self) -> None:
        if not os.path.isfile(self.metrics_file_path):
            return
        with open(self.metrics_file_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            keys = list(reader.fieldnames or [])
            kept = [row for row in reader if row.get("step") and int(float(row["step"])) < self.purge_step]
        with atomic_write(self.metrics_file_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            writer.writerows(kept)
        self.metrics_keys = keys  # later rows extend this header (the parent rewrites the file for new keys)


class RunCSVLogger(CSVLogger):
    """`CSVLogger` that, with `purge_step`, continues the run's metrics.csv (see the module docstring)."""

    def __init__(self, *args: Any, purge_step: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.purge_step = purge_step

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None and self.purge_step is not None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ContinuingWriter(self.log_dir, self.purge_step)
        return super().experiment


class RunTensorBoardLogger(TensorBoardLogger):
    """`TensorBoardLogger` passing `purge_step` to its SummaryWriter (events from that step on are hidden)."""

    def __init__(self, *args: Any, purge_step: int | None = None, **kwargs: Any) -> None:
        if purge_step is not None:
            kwargs["purge_step"] = purge_step
        super().__init__(*args, **kwargs)
