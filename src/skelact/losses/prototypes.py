"""HaLP's prototypes: spherical k-means centres of the most recent queue keys, refreshed on a schedule.

State lives in buffers (the prototypes, whether they were computed, steps since the last refresh), so a
checkpoint restores it exactly. The schedule (specs/halp.md §5.2, §5.8): nothing until the warm-up of
`warmup` keys has been enqueued (2K + 1 in the official code); then the prototypes are computed at once and
refreshed every `refresh_every` steps, each time after the step's keys were enqueued, so a step's
hallucination uses the prototypes of the previous refresh (as the official code).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.losses.spherical_kmeans import spherical_kmeans


class PrototypeBank(nn.Module):
    """`num_prototypes` unit vectors of dimension `dim`, zeros until the first refresh."""

    prototypes: Tensor
    ready: Tensor
    since_refresh: Tensor

    def __init__(
        self,
        num_prototypes: int,
        dim: int,
        *,
        refresh_every: int = 10,
        init: Literal["kmeans++", "kmeans++_linear", "random"] = "kmeans++",
        centroid: Literal["frechet", "extrinsic"] = "frechet",
    ) -> None:
        super().__init__()
        if num_prototypes < 2 or refresh_every < 1:
            raise ConfigError(
                f"need >= 2 prototypes and refresh_every >= 1, got {num_prototypes}, {refresh_every}"
            )
        self.refresh_every, self.init, self.centroid = refresh_every, init, centroid
        self.register_buffer("prototypes", torch.zeros(num_prototypes, dim))
        self.register_buffer("ready", torch.zeros((), dtype=torch.bool))
        self.register_buffer("since_refresh", torch.zeros((), dtype=torch.long))

    def due(self, seen: int, warmup: int) -> bool:
        """Count one step; True when the prototypes should be (re)computed now."""
        self.since_refresh.add_(1)
        if seen < warmup:
            return False
        return not bool(self.ready) or int(self.since_refresh) >= self.refresh_every

    @torch.no_grad()
    def refresh(self, keys: Tensor, generator: torch.Generator | None = None) -> None:
        """Cluster `keys` (n, dim) into the prototypes."""
        result = spherical_kmeans(
            keys, self.prototypes.shape[0], generator=generator, init=self.init, centroid=self.centroid
        )
        self.prototypes.copy_(result.centroids)
        self.ready.fill_(True)
        self.since_refresh.zero_()
