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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np

from skelact.errors import ConfigError

KEYPOINT = "keypoint"


class ModalityReader(Protocol):
    def __call__(self, store: Any, index: int, frames: np.ndarray) -> np.ndarray: ...


_READERS: dict[str, ModalityReader] = {}


def register_modality(name: str) -> Callable[[ModalityReader], ModalityReader]:
    """Decorator registering the reader of a sample modality under `name`."""

    def decorator(reader: ModalityReader) -> ModalityReader:
        if name == KEYPOINT or name in _READERS:
            raise ConfigError(f"sample modality {name!r} is registered twice")
        _READERS[name] = reader
        return reader

    return decorator


def list_modalities() -> list[str]:
    return [KEYPOINT, *sorted(_READERS)]


def modality_reader(name: str) -> ModalityReader:
    try:
        return _READERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown sample modality {name!r}", hint=f"known modalities: {', '.join(list_modalities())}"
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
