"""The `quiet_trainer` fixture: the CPU trainer the method tests fit their tiny modules with."""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
import pytest


@pytest.fixture
def quiet_trainer() -> Callable[[int], L.Trainer]:
    """A factory of deterministic CPU trainers for `epochs` epochs that write nothing: no logger, no
    checkpoints, no progress bar, no model summary."""

    def make(epochs: int) -> L.Trainer:
        return L.Trainer(
            accelerator="cpu",
            max_epochs=epochs,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            deterministic=True,
        )

    return make
