"""Explanation maps of a model that offers them (the 3D deformable transformer's `explain`), per sample.

A backbone with an ``explain(features, **modalities) -> dict`` method returns, besides its logits, maps over
the clip it saw: for ``deformable3d`` the cross tokens' joint-stride attention to each joint (``joints``,
the paper's "important joints") and their temporal-stride attention (``frames``), both (M, T, V), and where
3D token search sampled the volume (``points``). They are computed on the sample's first test-time clip
(the checkpoint's sampling and normalisation), so they line up with that clip's frames, which are returned
too. `skelact predict --explain FILE.npz` saves them for every sample; `skelact render --explain` draws the
joint map over the skeleton.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from skelact.atomic import atomic_write
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError
from skelact.inference.predictor import Predictor
from skelact.skeleton.layout import Layout


@dataclass(frozen=True)
class Explanation:
    sample_id: str
    clip: np.ndarray  # (M, T, V, C') the clip the maps refer to
    probabilities: np.ndarray  # (classes,)
    maps: dict[str, np.ndarray]  # "joints", "frames": (M, T, V); "points": (L, G, N_s, 3)


def check_explainable(predictor: Predictor, source: str) -> None:
    """One ConfigError when the checkpoint's network has no explanation maps."""
    backbone = predictor.net.backbone
    if not callable(getattr(backbone, "explain", None)):
        raise ConfigError(
            f"{source}: model {type(backbone).__name__} gives no explanation maps",
            hint="--explain needs a model with an `explain` method, e.g. deformable3d",
        )
    if predictor.net.extra_inputs:
        raise ConfigError(
            f"{source}: the model also reads {', '.join(predictor.net.extra_inputs)}, which a keypoint "
            "sample cannot supply here",
            hint="explain keypoint-only models (e.g. deformable3d with volume heatmap)",
        )


@torch.no_grad()
def explain_sample(
    predictor: Predictor, sample: SkeletonSample, source: str = "input", layout: str | Layout | None = None
) -> Explanation:
    """The maps of one sample's first test clip (see the module docstring)."""
    check_explainable(predictor, source)
    predictor.check_shape(sample, source)
    sample = predictor.adapt(sample, layout)
    predictor.check_input(sample, source)
    sample.validate(source=source)
    clip = torch.from_numpy(np.ascontiguousarray(predictor.clips(sample)[0]))[None]
    out = predictor.net.backbone.explain(predictor.net.embed(clip))
    probabilities = torch.softmax(out.pop("logits").float(), dim=-1)[0]
    maps = {name: value[0].float().numpy() for name, value in out.items()}
    return Explanation(sample.sample_id, clip[0].numpy(), probabilities.numpy(), maps)


def save_explanations(explanations: list[Explanation], class_names: list[str], path: str | Path) -> Path:
    """One .npz (written atomically): ``sample_ids``, ``predicted`` (class index), ``probabilities``
    (N, classes), ``class_names``, and per map name an object-free stack (N, ...) when every sample's map has
    one shape, else ``<name>/<i>`` per sample."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ConfigError(f"--explain writes a .npz file, got {path}")
    arrays: dict[str, np.ndarray] = {
        "sample_ids": np.asarray([e.sample_id for e in explanations]),
        "class_names": np.asarray(class_names),
        "probabilities": np.stack([e.probabilities for e in explanations]),
    }
    arrays["predicted"] = arrays["probabilities"].argmax(axis=1)
    for name in explanations[0].maps if explanations else ():
        values = [e.maps[name] for e in explanations]
        if len({v.shape for v in values}) == 1:
            arrays[name] = np.stack(values)
        else:
            arrays.update({f"{name}/{i}": v for i, v in enumerate(values)})
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        np.savez_compressed(handle, **arrays)
    return path
