"""Lightning's per-run noise is filtered by its exact text only; other messages still come through."""

from __future__ import annotations

import logging
import warnings

import pytest

from skelact.cli.quiet import RANK_ZERO_LOGGER, quiet_lightning

PYTREE = "lightning.pytorch.utilities._pytree"


def _warn_from(module: str, message: str, category: type[Warning]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_lightning()  # installed inside the context, as at import time it is before it
        warnings.warn_explicit(message, category, filename="x.py", lineno=1, module=module)
    return caught


def test_the_pytree_deprecation_from_lightning_is_filtered() -> None:
    message = "`isinstance(treespec, LeafSpec)` is deprecated, use `isinstance(treespec, TreeSpec)` instead."
    assert _warn_from(PYTREE, message, FutureWarning) == []


def test_the_same_text_elsewhere_and_other_warnings_still_show() -> None:
    message = "`isinstance(treespec, LeafSpec)` is deprecated"
    assert len(_warn_from("skelact.models.backbones", message, FutureWarning)) == 1
    assert len(_warn_from(PYTREE, "something else is deprecated", FutureWarning)) == 1


def test_the_cloud_logger_tip_is_dropped_and_other_info_kept(caplog: pytest.LogCaptureFixture) -> None:
    quiet_lightning()
    quiet_lightning()  # idempotent: one filter
    logger = logging.getLogger(RANK_ZERO_LOGGER)
    assert sum(type(f).__name__ == "_DropTips" for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=RANK_ZERO_LOGGER):
        logger.info("💡 Tip: For seamless cloud logging and experiment tracking, try installing [litlogger]")
        logger.info("GPU available: False, used: False")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False, used: False"]
