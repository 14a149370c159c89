"""Does a checkpoint fit the network it is loaded into? One sentence naming the difference, instead of torch's
list of every tensor that does not fit (hundreds of `size mismatch` lines for a model of another layout)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from skelact.inference.pipeline import PipelineRecord

# The facts of a record that decide the network's shapes and meaning; a difference in any is an error.
# Persons and model arguments are left to the tensor check: some backbones do not depend on them.
NETWORK_FACTS: tuple[tuple[str, Callable[[PipelineRecord], Any]], ...] = (
    ("layout", lambda r: (r.layout.get("name"), len(r.layout.get("joint_names") or ()))),
    ("classes", lambda r: r.num_classes),
    ("channels", lambda r: (r.num_channels, r.num_coords)),
    ("modality", lambda r: tuple(r.modality)),
    ("model", lambda r: r.model),
)


def describe(record: PipelineRecord) -> str:
    """The network facts of a record in words: what a reader compares to find the difference."""
    joints = len(record.layout.get("joint_names") or ())
    return (
        f"layout {record.layout.get('name', '?')} ({joints} joints), {record.num_classes} classes, "
        f"{record.num_channels} channels per joint ({record.num_coords}D"
        f"{' + score' if record.score_channel else ''}), modality {','.join(record.modality)}, "
        f"model {record.model}"
    )


def record_mismatch(saved: PipelineRecord, built: PipelineRecord) -> str | None:
    """None when the two records describe the same network; else the differing facts and both descriptions."""
    differing = [name for name, fact in NETWORK_FACTS if fact(saved) != fact(built)]
    if not differing:
        return None
    return (
        f"the checkpoint does not fit this configuration ({', '.join(differing)} differ): it was trained "
        f"with {describe(saved)}; this configuration builds {describe(built)}"
    )


def state_mismatch(
    expected: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor], strict: bool = True
) -> str | None:
    """None when `given` loads into a module whose state is `expected`; else counts and the first offender of
    each kind (shape differs, missing, unexpected: the latter two only when `strict`)."""
    problems = []
    shaped = [k for k in expected if k in given and tuple(expected[k].shape) != tuple(given[k].shape)]
    if shaped:
        first = shaped[0]
        problems.append(
            f"{_count(shaped, 'tensor')} differ in shape (first {first}: {_shape(given[first])} in the "
            f"checkpoint, {_shape(expected[first])} in the model)"
        )
    if strict:
        missing = [k for k in expected if k not in given]
        unexpected = [k for k in given if k not in expected]
        if missing:
            problems.append(f"{_count(missing, 'tensor')} missing from the checkpoint (first {missing[0]})")
        if unexpected:
            problems.append(f"{_count(unexpected, 'tensor')} the model does not have (first {unexpected[0]})")
    return "; ".join(problems) or None


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _shape(tensor: torch.Tensor) -> str:
    return str(tuple(tensor.shape))
