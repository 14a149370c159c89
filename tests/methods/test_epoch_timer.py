"""EpochTimer keeps each full epoch's seconds; the summary reports their median."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from skelact.methods import epoch_timer
from skelact.methods.epoch_timer import EpochTimer


def test_the_median_epoch_ignores_a_slow_first_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Epochs start at 0, 10, 12 and 14 and fit ends at 17; each later start reads the clock twice (the end of
    # the previous epoch, then its own start).
    clock = iter([0.0, 10.0, 10.0, 12.0, 12.0, 14.0, 14.0, 17.0])
    monkeypatch.setattr(epoch_timer.time, "perf_counter", lambda: next(clock))
    timer = EpochTimer()
    assert timer.median_epoch_seconds is None
    trainer = SimpleNamespace(loggers=[], global_step=0, current_epoch=0)
    for epoch in range(4):
        trainer.current_epoch = epoch
        timer.on_train_epoch_start(trainer, None)  # type: ignore[arg-type]
    timer.on_fit_end(trainer, None)  # type: ignore[arg-type]
    assert timer.epoch_seconds == [10.0, 2.0, 2.0, 3.0]
    assert timer.median_epoch_seconds == 2.5
