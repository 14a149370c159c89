"""`SkeletonSample`: the one record every reader produces and every store holds (DESIGN.md principle 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np

from skelact.errors import FormatError


class SkipItem(Exception):  # noqa: N818 - a signal, not an error: the item has no sample by design
    """Raised by a reader or parse function for an item that legitimately yields no sample (counted by the
    preparation runner, not an error)."""


@dataclass
class SkeletonSample:
    """One action clip.

    Attributes:
        keypoint: float32 (M persons, T frames, V joints, C coords). Missing persons/joints are zeros.
        label: 0-based class index (-1 when unknown, e.g. for prediction inputs).
        score: optional float32 (M, T, V) keypoint confidences (2D pose estimators).
        meta: free metadata: subject, view, setup, source file, ...
        sample_id: unique name within a dataset (e.g. ``S001C001P001R001A001``).
    """

    keypoint: np.ndarray
    label: int = -1
    score: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    sample_id: str = ""

    @property
    def num_persons(self) -> int:
        return int(self.keypoint.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.keypoint.shape[1])

    @property
    def num_joints(self) -> int:
        return int(self.keypoint.shape[2])

    @property
    def num_channels(self) -> int:
        return int(self.keypoint.shape[3])

    def validate(
        self,
        *,
        num_joints: int | None = None,
        num_channels: int | None = None,
        num_classes: int | None = None,
        source: str | PathLike[str] | None = None,
    ) -> SkeletonSample:
        """Check shape, finiteness and label; raise one `FormatError` naming the sample and the problem.

        Converts `keypoint`/`score` to float32 in place and returns self, so readers can write
        ``return SkeletonSample(...).validate(num_joints=25, source=path)``.
        """
        where = f"sample {self.sample_id!r}" if self.sample_id else "sample"
        path = source if source is not None else self.meta.get("source")

        def fail(message: str) -> FormatError:
            return FormatError(message, path=path, where=where)

        kp = np.asarray(self.keypoint)
        if kp.ndim != 4:
            raise fail(f"keypoint must have 4 axes (persons, frames, joints, coords), got shape {kp.shape}")
        m, t, v, c = kp.shape
        if m == 0:
            raise fail("keypoint has zero persons")
        if t == 0:
            raise fail("keypoint has zero frames (empty sequence)")
        if num_joints is not None and v != num_joints:
            raise fail(f"expected {num_joints} joints, got {v}")
        if num_channels is not None and c != num_channels:
            raise fail(f"expected {num_channels} coordinates per joint, got {c}")
        if c not in (2, 3):
            raise fail(f"expected 2 or 3 coordinates per joint, got {c}")
        if not np.issubdtype(kp.dtype, np.number):
            raise fail(f"keypoint must be numeric, got dtype {kp.dtype}")
        kp = kp.astype(np.float32, copy=False)
        finite = np.isfinite(kp)
        if not finite.all():
            p, f, j, _ = np.argwhere(~finite)[0]
            raise fail(f"keypoint has NaN or Inf (first at person {p}, frame {f}, joint {j})")
        self.keypoint = kp
        if self.score is not None:
            sc = np.asarray(self.score).astype(np.float32, copy=False)
            if sc.shape != (m, t, v):
                raise fail(f"score must have shape {(m, t, v)} to match keypoint, got {sc.shape}")
            if not np.isfinite(sc).all():
                raise fail("score has NaN or Inf")
            self.score = sc
        if isinstance(self.label, (bool, np.bool_)) or not isinstance(self.label, (int, np.integer)):
            raise fail(f"label must be an integer, got {self.label!r}")
        self.label = int(self.label)
        if num_classes is not None and not 0 <= self.label < num_classes:
            raise fail(f"label {self.label} outside 0..{num_classes - 1}")
        if num_classes is None and self.label < -1:
            raise fail(f"label {self.label} is negative")
        return self
