"""Dataset recipes by name: one `skelact prepare <name>` subcommand each."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from skelact.data.prepare.job import PrepareJob
from skelact.errors import ConfigError

# Imported on first lookup, in this order (the order of `skelact prepare --help`).
PREPARE_MODULES = (
    "ntu",
    "pyskl",
    "ctrgcn_npz",
    "agcn",
    "kinetics",
    "nw_ucla",
    "jhmdb",
    "shrec17",
    "custom_npy",
    "keypoint_table",
)


class Preparer(Protocol):
    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def build(self, raw: Path, options: argparse.Namespace) -> PrepareJob: ...


T = TypeVar("T")
PREPARERS: dict[str, Preparer] = {}
_loaded = False


def register_preparer(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: instantiate the recipe and register it under `name`."""

    def decorate(cls: type[T]) -> type[T]:
        if name in PREPARERS and type(PREPARERS[name]) is not cls:
            raise ConfigError(f"preparer {name!r} is registered twice")
        instance = cls()
        instance.name = name  # type: ignore[attr-defined]
        PREPARERS[name] = instance  # type: ignore[assignment]
        return cls

    return decorate


def load_preparers() -> dict[str, Preparer]:
    global _loaded
    if not _loaded:
        for module in PREPARE_MODULES:
            name = f"skelact.data.prepare.{module}"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as err:  # not written yet; errors inside a module still surface
                if err.name != name:
                    raise
        _loaded = True
    return PREPARERS


def get_preparer(name: str) -> Preparer:
    preparers = load_preparers()
    if name not in preparers:
        raise ConfigError(f"unknown dataset {name!r}", hint=f"choose one of: {', '.join(preparers)}")
    return preparers[name]
