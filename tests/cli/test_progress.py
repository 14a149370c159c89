"""The progress bar: rich's live display on a terminal, Lightning's tqdm lines in a log file."""

from __future__ import annotations

import io

from lightning.pytorch.callbacks import RichProgressBar

from skelact.cli.progress import PLAIN_REFRESH_BATCHES, PlainProgressBar, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_live_bar() -> None:
    assert isinstance(progress_bar(Terminal()), RichProgressBar)


def test_a_file_gets_periodic_epoch_lines() -> None:
    bar = progress_bar(io.StringIO())
    assert isinstance(bar, PlainProgressBar)
    assert bar.refresh_rate == PLAIN_REFRESH_BATCHES
    assert bar._leave  # each epoch's line stays when the epoch ends


def test_a_closed_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    stream.close()
    assert isinstance(progress_bar(stream), PlainProgressBar)
