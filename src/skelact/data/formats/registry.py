"""Readers by format name (DESIGN.md principle 5): a dict filled by a decorator, modules listed explicitly."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from skelact.errors import ConfigError

# The reader modules, imported on first lookup. An explicit list keeps "which formats exist" greppable.
FORMAT_MODULES = (
    "ntu_skeleton",
    "pyskl_pickle",
    "ctrgcn_npz",
    "agcn_npy",
    "kinetics_json",
    "nw_ucla",
    "jhmdb_ddnet",
    "shrec17",
    "custom_npy",
    "keypoint_table",
)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FormatInfo:
    name: str
    description: str
    reader: Callable[..., Any]


FORMATS: dict[str, FormatInfo] = {}
_loaded = False


def register_format(name: str, *, description: str) -> Callable[[F], F]:
    """Register `reader` (a function reading one file or record) under `name`."""

    def decorate(reader: F) -> F:
        if name in FORMATS and FORMATS[name].reader is not reader:
            raise ConfigError(f"format {name!r} is registered twice")
        FORMATS[name] = FormatInfo(name, description, reader)
        return reader

    return decorate


def load_formats() -> dict[str, FormatInfo]:
    """Import every reader module once and return the registry."""
    global _loaded
    if not _loaded:
        for module in FORMAT_MODULES:
            _import_if_present(f"skelact.data.formats.{module}")
        _loaded = True
    return FORMATS


def get_format(name: str) -> FormatInfo:
    formats = load_formats()
    if name not in formats:
        raise ConfigError(f"unknown format {name!r}", hint=f"known formats: {', '.join(sorted(formats))}")
    return formats[name]


def _import_if_present(module: str) -> None:
    """Import `module`; a module not written yet is skipped, any error inside an existing one is raised."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
