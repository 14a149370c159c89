"""The `literal` fixture: tests/models/backbones/literal.py (plain implementations and test helpers)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def _load_literal() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "skelact_literal_gcns", Path(__file__).with_name("literal.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def literal() -> ModuleType:
    """tests/models/backbones/literal.py, the plain step-by-step implementations."""
    return _load_literal()
