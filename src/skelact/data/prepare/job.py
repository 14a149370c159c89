"""What a dataset recipe hands to the runner: the work items, how to parse one, and how to split."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skelact.data.sample import SkeletonSample
from skelact.skeleton.layout import Layout


@dataclass(frozen=True)
class SampleTable:
    """The kept samples' ids, labels and metadata, in store order, for computing splits."""

    ids: list[str]
    labels: np.ndarray
    meta: list[dict[str, Any]]

    def column(self, key: str) -> np.ndarray:
        """One meta field for every sample, e.g. ``table.column("subject")``; missing keys raise KeyError."""
        return np.asarray([m[key] for m in self.meta])


@dataclass(frozen=True)
class PrepareJob:
    """A preparation recipe's plan. The runner parses, splits, carves validation and writes the store.

    `parse` must be a module-level function (or a functools.partial of one): it runs in worker processes.
    """

    items: Sequence[Any]
    parse: Callable[[Any], Sequence[SkeletonSample]]
    layout: str | Layout  # a registered name, or a Layout object (user layout files have no name)
    class_names: Sequence[str]
    splits: Callable[[SampleTable], Mapping[str, np.ndarray]]
    val_groups: str | None = "subject"
    provenance: Mapping[str, Any] = field(default_factory=dict)
    parallel: bool = True
    describe: Callable[[Any], str] = str
