"""The training progress bar: live on a terminal, plain periodic output when stdout goes to a file or pipe.

Rich's live display draws nothing until it stops when its console is not a terminal, so a run whose output
went to a log file showed its progress only at the end. There Lightning's tqdm bar is used instead, through
its documented extension points: one bar per epoch, left in place when the epoch ends (one line per epoch,
ending with its loss and validation metrics) and refreshed every `PLAIN_REFRESH_BATCHES` batches in between
(`tail -f` shows it as it is written). The sanity-check and validation bars, which tqdm would draw on a
second line with cursor movements, are left out: the epoch line carries the validation metrics.
"""

from __future__ import annotations

from typing import Any, TextIO

from lightning.pytorch.callbacks import ProgressBar, RichProgressBar, TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm

PLAIN_REFRESH_BATCHES = 50


def progress_bar(stream: TextIO) -> ProgressBar:
    """The bar for output going to `stream` (both Lightning bars write to standard output)."""
    if _is_terminal(stream):
        return RichProgressBar()
    return PlainProgressBar()


class PlainProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar for output that is not a terminal (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(refresh_rate=PLAIN_REFRESH_BATCHES, leave=True)

    def init_sanity_tqdm(self) -> Tqdm:
        return Tqdm(disable=True)

    def init_validation_tqdm(self) -> Tqdm:
        if self.trainer.state.fn == "validate":  # `skelact validate`: the only bar, keep it
            return super().init_validation_tqdm()
        return Tqdm(disable=True)

    def get_metrics(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        metrics = super().get_metrics(*args, **kwargs)
        metrics.pop("v_num", None)  # the run directory is printed when fit ends
        return metrics


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or a closed stream
        return False
