"""Sample modalities: what a training item carries besides its keypoint clips, aligned on the same frames.

A modality is a name and a reader ``(store, store index, frames) -> array``: ``frames`` is the (K, T) int
array of the stored frame each clip frame was sampled from (K clips of T frames), and the reader returns an
array whose first two axes are (K, T), e.g. RGB crops (K, T, 3, H, W). The dataset asks every reader for
the frames the keypoint clips were sampled from, so all modalities of an item show the same instants (with
CTR-GCN's interpolating ``crop_resize`` sampling, the nearest stored frame).

``keypoint`` is the clip itself and always present; a model declares the modalities it reads (its ``inputs``
attribute, `skelact.inference.pipeline.InputModel.inputs`), the method asks the datamodule for them, and
the checkpoint's pipeline record lists them. Modalities derived from the keypoints on the device (pose
heatmaps, `skelact.models.inputs.heatmap`) are part of the model and need no reader.

A reader with settings (RGB crops: size, padding) is registered as a class: `modality_reader` builds it
from the options the datamodule's ``modality_options`` give for its name. Readers living in other modules
of `skelact.data` are imported on first lookup (`MODALITY_MODULES`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

import numpy as np

from skelact.errors import ConfigError

KEYPOINT = "keypoint"
# Modules holding registered readers, imported on first lookup (they import this module).
MODALITY_MODULES = ("skelact.data.rgb",)


class ModalityReader(Protocol):
    def __call__(self, store: Any, index: int, frames: np.ndarray) -> np.ndarray: ...


_READERS: dict[str, Any] = {}  # a reader function, or a reader class built with options
_loaded = False

R = TypeVar("R")


def register_modality(name: str) -> Callable[[R], R]:
    """Decorator registering the reader of a sample modality under `name`: a function, or a class whose
    instances are readers and whose keyword arguments are the modality's options."""

    def decorator(reader: R) -> R:
        if name == KEYPOINT or name in _READERS:
            raise ConfigError(f"sample modality {name!r} is registered twice")
        _READERS[name] = reader
        return reader

    return decorator


def _load() -> dict[str, Any]:
    global _loaded
    if not _loaded:
        for module in MODALITY_MODULES:
            importlib.import_module(module)
        _loaded = True
    return _READERS


def list_modalities() -> list[str]:
    return [KEYPOINT, *sorted(_load())]


def modality_reader(name: str, options: Mapping[str, Any] | None = None) -> ModalityReader:
    """The reader of `name`, built with `options` when it is a class; options for a plain reader, or ones
    its class does not take, are one ConfigError."""
    try:
        reader = _load()[name]
    except KeyError:
        raise ConfigError(
            f"unknown sample modality {name!r}", hint=f"known modalities: {', '.join(list_modalities())}"
        ) from None
    if not isinstance(reader, type):
        if options:
            raise ConfigError(f"sample modality {name!r} takes no options, got {', '.join(options)}")
        return reader
    try:
        return reader(**dict(options or {}))
    except TypeError as err:
        raise ConfigError(
            f"bad options for sample modality {name!r}: {err}", hint=f"see the docstring of {reader.__name__}"
        ) from None


def check_modalities(names: Iterable[str]) -> tuple[str, ...]:
    """``keypoint`` first, then the other names once each, in order; an unknown name is one ConfigError."""
    result = [KEYPOINT]
    for name in names:
        if name != KEYPOINT:
            modality_reader(name)
        if name not in result:
            result.append(name)
    return tuple(result)


@register_modality("frame_index")
def frame_index(store: Any, index: int, frames: np.ndarray) -> np.ndarray:
    """(K, T) int64: the stored frame each clip frame shows, to align streams kept outside the store."""
    return np.asarray(frames, dtype=np.int64)
