"""Model selection: which epoch's weights a run reports, and a record of that choice in every result.

Rules (`SupervisedClassifier(select_on=...)`, i.e. `--model.select_on`):

- "val" (default): the epoch with the best validation top-1 (DESIGN.md principle 7). Without a validation
  split it falls back to "last", with a warning.
- "last": the last epoch (`epoch-EEE.ckpt`, and `last.ckpt` a link to it).
- "test_optimistic": the test split is evaluated after every training epoch and the best test epoch is kept,
  as CTR-GCN's `main.py` and most paper repositories do (specs/reference-results.md: "best test epoch").
  The test labels then choose the weights, so the reported accuracy is optimistic; the name says so, fitting
  warns, and metrics.json and scores.npz record it.

Every checkpoint carries a record of its role (the selected epoch, or the last one) so that `skelact test`
can write which rule produced the weights it tested. `resolve_checkpoint` lets `--ckpt_path` name a run
directory, with `--report selected|last` choosing between its selected and its last checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_warn

from skelact.atomic import atomic_path
from skelact.errors import ConfigError

SELECT_ON: tuple[str, ...] = ("val", "last", "test_optimistic")
REPORTS: tuple[str, ...] = ("selected", "last")
# The rule a selected checkpoint of each mode stands for, as written into results.
RULES: dict[str, str] = {"val": "val_best", "last": "last", "test_optimistic": "test_best"}
MONITORS: dict[str, str | None] = {"val": "val/top1", "last": None, "test_optimistic": "test_optimistic/top1"}
FILENAMES: dict[str, str] = {
    "val": "best-{epoch:03d}",
    "last": "epoch-{epoch:03d}",  # not "last-...": Lightning treats names starting with "last" as last.ckpt
    "test_optimistic": "test-best-{epoch:03d}",
}
SELECTION_KEY = "skelact_selection"  # top-level checkpoint key of the role record
OPTIMISTIC_WARNING = (
    "select_on=test_optimistic: the test split is evaluated every epoch and the best test epoch is kept; "
    "the reported test accuracy is optimistic (test labels chose the epoch). Use it only to reproduce papers "
    "that report the best test epoch; the default select_on=val does not touch the test split in training."
)


def check_select_on(select_on: str) -> str:
    if select_on not in SELECT_ON:
        raise ConfigError(f"unknown select_on {select_on!r}; choose one of {', '.join(SELECT_ON)}")
    return select_on


class SelectionCheckpoint(ModelCheckpoint):
    """`ModelCheckpoint` configured from the module's `select_on`, writing a role record into each file.

    Files: `best-EEE.ckpt` (val), `test-best-EEE.ckpt` (test_optimistic) or `epoch-EEE.ckpt` (last), and
    `last.ckpt` in every mode (a link to `epoch-EEE.ckpt` in "last" mode, so the weights are stored once).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs = {"mode": "max", "save_last": True, "auto_insert_metric_name": False, **kwargs}
        super().__init__(**kwargs)
        self.select_on = "val"
        self._role: str | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        select_on = check_select_on(getattr(pl_module.hparams, "select_on", "val"))
        datamodule = getattr(trainer, "datamodule", None)
        if select_on == "val" and getattr(datamodule, "val_split", "") is None:
            # In every stage, so that a test given the fit's data options rebuilds this callback's state key
            # (Lightning warns about "callbacks used to create the checkpoint" otherwise); fit says why.
            if stage == "fit":
                rank_zero_warn("no validation split: model selection keeps the last epoch")
            select_on = "last"
        self.select_on = select_on
        self.monitor = MONITORS[select_on]
        self.save_top_k = 1  # with no monitor (last): the newest epoch, replacing the previous one
        self.filename = FILENAMES[select_on]
        if select_on == "last":
            self.save_last = "link"
        if select_on == "test_optimistic":
            # The test metric is logged in the module's on_train_epoch_end, after validation has run.
            self._save_on_train_epoch_end = True
        super().setup(trainer, pl_module, stage)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_missed(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_missed(trainer)

    def _save_last_if_missed(self, trainer: L.Trainer) -> None:
        """Lightning 2.6 writes last.ckpt only at steps where a top-k checkpoint was saved, so after an epoch
        that did not improve, last.ckpt still held the best epoch (and a resume went back to it). Here
        last.ckpt is written at every checkpointing point, as `save_last` documents."""
        if self.save_last and not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def save_last_now(self, trainer: L.Trainer) -> str:
        """Write the run's current state as last.ckpt, atomically and recorded with role "last": a run stopped
        between epochs (methods/sigterm.py) resumes from it with `--ckpt_path last`. Call it on every rank."""
        assert self.dirpath is not None, "called before setup"
        target = os.path.join(self.dirpath, self.CHECKPOINT_NAME_LAST + self.FILE_EXTENSION)
        self.last_model_path = target  # the state written below names the file it is in
        self._role = "last"
        try:
            if trainer.is_global_zero:  # a link (select_on=last) is replaced, its target is not written
                with atomic_path(target) as tmp:
                    trainer.save_checkpoint(tmp, weights_only=False)
            else:
                trainer.save_checkpoint(target, weights_only=False)  # collective; only rank 0 writes
        finally:
            self._role = None
        return target

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        # ModelCheckpoint sets last_model_path / best_model_path to the file before writing it.
        self._role = "last" if filepath == self.last_model_path else "selected"
        try:
            super()._save_checkpoint(trainer, filepath)
        finally:
            self._role = None

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        value = trainer.callback_metrics.get(self.monitor) if self.monitor else None
        checkpoint[SELECTION_KEY] = {
            "select_on": self.select_on,
            "role": self._role or "other",
            "epoch": int(trainer.current_epoch),
            "global_step": int(trainer.global_step),
            "monitor": self.monitor,
            "monitor_value": None if value is None else float(value),
        }


def selection_result(record: dict[str, Any] | None, checkpoint: str | None) -> dict[str, Any]:
    """What metrics.json and the score file's meta say about how the tested weights were chosen.

    `selection` is "val_best", "last", "test_best" (optimistic), "in_memory" (no checkpoint loaded: the
    weights of the running process were tested) or "unknown" (a checkpoint without a role record).
    """
    if checkpoint is None:
        return {"selection": "in_memory", "checkpoint": None}
    if not record:
        return {"selection": "unknown", "checkpoint": str(checkpoint)}
    rule = "last" if record.get("role") == "last" else RULES.get(record.get("select_on", ""), "unknown")
    result: dict[str, Any] = {
        "selection": rule,
        "checkpoint": str(checkpoint),
        "selected_epoch": record.get("epoch"),
        "selection_detail": dict(record),
    }
    if rule == "test_best":
        result["selection_warning"] = "the epoch was chosen on the test split: the accuracy is optimistic"
    return result


def resolve_checkpoint(ckpt_path: str | None, report: str | None) -> str | None:
    """`--ckpt_path` may name a run directory (or its checkpoints/ folder): `report` "selected" (default)
    takes the checkpoint the run's rule selected, "last" the last epoch. Files pass through unchanged."""
    if report is not None and report not in REPORTS:
        raise ConfigError(f"unknown --report {report!r}; choose one of {', '.join(REPORTS)}")
    if ckpt_path is None:
        if report is not None:
            raise ConfigError("--report needs --ckpt_path RUN_DIR", hint="e.g. --ckpt_path runs/version_0")
        return None
    path = Path(ckpt_path)
    if not path.is_dir():
        if report is not None:
            raise ConfigError(
                f"--report {report} chooses a checkpoint inside a run directory, but {ckpt_path} is not one",
                hint="pass the run directory, e.g. --ckpt_path runs/version_0",
            )
        return ckpt_path  # a file, or one of Lightning's names ("best", "last"), or a missing path it reports
    folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    last = folder / "last.ckpt"
    if report == "last":
        if not last.is_file():
            raise ConfigError(f"{folder} has no last.ckpt")
        return str(last)
    selected = sorted(folder.glob("*best-*.ckpt"))
    if len(selected) > 1:
        names = ", ".join(p.name for p in selected)
        raise ConfigError(
            f"{folder} holds several selected checkpoints ({names})", hint="pass one of them as --ckpt_path"
        )
    if selected:
        return str(selected[0])
    if last.is_file():  # select_on=last, or no validation split: the run kept the last epoch only
        return str(last)
    raise ConfigError(f"no checkpoint in {folder}", hint="is it the directory of a `skelact fit` run?")
