"""Readers by format name (DESIGN.md principle 5): a dict filled by a decorator, modules listed explicitly.

A format that holds one clip per file also names its suffixes and a `read_clip` function with one
signature for all of them, so `skelact prepare` and `skelact predict` find clip files the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from skelact.errors import ConfigError

if TYPE_CHECKING:
    from skelact.data.sample import SkeletonSample
    from skelact.skeleton.layout import Layout

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
class ClipRequest:
    """What a one-clip reader may need besides the path; each format uses only its part."""

    layout: Layout  # joint names of keypoint tables
    score_channel: bool = False  # the last channel of a .npy array is a confidence
    ntu_preset: str = "ctrgcn"  # the denoising preset applied to an NTU .skeleton file


@dataclass(frozen=True)
class FormatInfo:
    name: str
    description: str
    reader: Callable[..., Any]
    suffixes: tuple[str, ...] = ()  # lower-case suffixes of files holding one clip each
    read_clip: Callable[[Path, ClipRequest], SkeletonSample] | None = None


FORMATS: dict[str, FormatInfo] = {}
_loaded = False


def register_format(
    name: str,
    *,
    description: str,
    suffixes: tuple[str, ...] = (),
    read_clip: Callable[[Path, ClipRequest], SkeletonSample] | None = None,
) -> Callable[[F], F]:
    """Register `reader` (a function reading one file or record) under `name`; a one-clip-per-file format
    also gives its `suffixes` and `read_clip`."""

    def decorate(reader: F) -> F:
        if name in FORMATS and FORMATS[name].reader is not reader:
            raise ConfigError(f"format {name!r} is registered twice")
        FORMATS[name] = FormatInfo(name, description, reader, tuple(suffixes), read_clip)
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


def clip_suffixes() -> dict[str, FormatInfo]:
    """Suffix -> the format that reads a file with it as one clip."""
    return {suffix: info for info in load_formats().values() if info.read_clip for suffix in info.suffixes}


def _import_if_present(module: str) -> None:
    """Import `module`; a module not written yet is skipped, any error inside an existing one is raised."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
