"""Test-time reporting for any classifying method: score file, metrics, figures, worst-sample animations.

A method opts in by returning `TestReport(...)` from `configure_callbacks` and by returning, from its
`test_step`, a dict with per-sample ``logits`` and ``probs`` (N, classes), ``label`` and store ``index``
(N,). The callback gathers them from every rank and rank 0 writes the report of the whole test split.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from skelact.evaluation.report import write_report
from skelact.evaluation.scores import ScoreFile
from skelact.viz.worst import render_worst

OUTPUT_KEYS = ("logits", "probs", "label", "index")


class TestReport(Callback):
    """Writes `<report_dir>/scores.npz`, `metrics.json` and figures after `trainer.test`.

    Args:
        report_dir: where to write; default `<run dir>/test`.
        worst: how many worst-classified samples to render as GIFs into `worst/` (0: none).
        run_record: called at the end of testing for what was tested (split, model, selection ...); its dict
            goes into the score file's meta and metrics.json.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        report_dir: str | Path | None = None,
        worst: int = 5,
        run_record: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.report_dir = None if report_dir is None else Path(report_dir)
        self.worst = worst
        self.run_record = run_record
        self.report: dict[str, Any] | None = None  # metrics.json's content, on rank 0, after testing
        self.written_to: Path | None = None
        self._outputs: list[dict[str, torch.Tensor]] = []

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._outputs.clear()

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, dict) or not all(key in outputs for key in OUTPUT_KEYS):
            raise TypeError(f"TestReport needs test_step to return a dict with {', '.join(OUTPUT_KEYS)}")
        self._outputs.append({key: outputs[key].detach() for key in OUTPUT_KEYS})

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._outputs:
            return
        gathered = {
            key: pl_module.all_gather(torch.cat([o[key] for o in self._outputs])).reshape(
                -1, *self._outputs[0][key].shape[1:]
            )
            for key in OUTPUT_KEYS
        }
        self._outputs.clear()
        # trainer.log_dir is a collective call under DDP: every rank must ask, not only rank 0.
        out = self.report_dir or Path(trainer.log_dir or ".") / "test"
        if trainer.is_global_zero:
            self._write(trainer, pl_module, gathered, out)
        # The other ranks wait for rank 0's report (rendering takes seconds), so that no process tears down
        # the process group while another still uses it.
        trainer.strategy.barrier("skelact_test_report")

    def _write(
        self, trainer: L.Trainer, pl_module: L.LightningModule, gathered: dict[str, torch.Tensor], out: Path
    ) -> None:
        index = gathered["index"].cpu().numpy()
        _, first = np.unique(index, return_index=True)  # distributed samplers may pad with repeats
        datamodule = trainer.datamodule
        ids = getattr(datamodule, "sample_ids", None)
        run = self.run_record() if self.run_record is not None else {}
        num_classes = gathered["probs"].shape[1]
        names = getattr(pl_module, "class_names", None) or [str(i) for i in range(num_classes)]
        scores = ScoreFile(
            sample_ids=np.asarray(ids(index[first]) if ids is not None else [str(i) for i in index[first]]),
            labels=gathered["label"].cpu().numpy()[first],
            logits=gathered["logits"].cpu().numpy()[first],
            probs=gathered["probs"].cpu().numpy()[first],
            class_names=tuple(names),
            meta=run,
        )
        scores.write(out / "scores.npz")
        self.report = write_report(scores, out, extra=run)
        self.written_to = out
        store = getattr(datamodule, "store", None)
        if self.worst > 0 and store is not None:
            render_worst(scores, store, out / "worst", self.worst, max_frames=32)


def find_test_report(trainer: L.Trainer) -> TestReport | None:
    """The run's `TestReport` callback, to read the report after `trainer.test`."""
    return next((c for c in trainer.callbacks if isinstance(c, TestReport)), None)
