"""Dataset recipes by name: one `skelact prepare <name>` subcommand each.

A recipe declares its option records (`option_types`, whose fields become the subcommand's flags) and
`prepare(*options)`, which does the work and returns a summary. Most recipes plan a `PrepareJob` and
leave parsing and writing to the runner: they derive from `JobRecipe` and only write `build`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from skelact.data.prepare.job import PrepareJob
from skelact.data.prepare.options import RunOptions
from skelact.errors import ConfigError
from skelact.options import Options

if TYPE_CHECKING:
    from skelact.data.prepare.runner import PrepareSummary

# Imported on first lookup, in this order (the order of `skelact prepare --help`).
PREPARE_MODULES = (
    "synthetic",
    "longtail_recipe",
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


class Summary(Protocol):
    """What a recipe reports: the lines `skelact prepare` prints."""

    def lines(self) -> list[str]: ...


class Preparer(Protocol):
    name: str
    help: str

    @property
    def option_types(self) -> tuple[type[Options], ...]: ...

    def prepare(self, *options: Any) -> Summary: ...


O = TypeVar("O", bound=Options)


class JobRecipe(Generic[O]):
    """A recipe that plans a `PrepareJob` from ``--raw`` and its own options (`options_type`); the runner
    then parses, splits and writes the store under `RunOptions`."""

    name: str
    help: str
    options_type: type[O]

    @property
    def option_types(self) -> tuple[type[Options], ...]:
        return (RunOptions, self.options_type)

    def build(self, raw: Path, options: O) -> PrepareJob:
        raise NotImplementedError

    def prepare(self, run: RunOptions, options: O) -> PrepareSummary:
        from skelact.data.prepare.runner import run_job

        if not run.raw.exists():
            raise ConfigError(f"{run.raw} does not exist", hint="`raw` takes the raw file or folder")
        return run_job(self.build(run.raw, options), run)


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
