"""MoCo's queue of negative keys: a FIFO ring buffer of L2-normalised embeddings kept in buffers.

The keys, the write pointer and the number of keys ever enqueued are buffers, so they are part of the
state_dict: a checkpoint holds them and a resumed run continues with exactly the queue it stopped with
(specs/halp.md §4.2, issue 14). Rows are stored (K, D), the transpose of the official code's D × K.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from skelact.errors import ConfigError


class KeyQueue(nn.Module):
    """K keys of dimension D; starts as L2-normalised Gaussian noise, as the official code.

    `seen` counts every key enqueued since the start (HaLP's warm-up counter: the queue holds only real keys
    once `seen` >= K).
    """

    keys: Tensor
    pointer: Tensor
    seen: Tensor

    def __init__(self, size: int, dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if size < 1 or dim < 1:
            raise ConfigError(f"queue size and dimension must be positive, got {size} x {dim}")
        self.register_buffer("keys", F.normalize(torch.randn(size, dim, generator=generator), dim=1))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long))
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))

    @property
    def size(self) -> int:
        return self.keys.shape[0]

    @torch.no_grad()
    def enqueue(self, keys: Tensor) -> None:
        """Write `keys` (N, D) at the pointer, oldest entries first, wrapping around; N may be any size <= K
        (the last batch of an epoch is smaller), so K need not be a multiple of the batch."""
        n = keys.shape[0]
        if n > self.size:
            raise ConfigError(
                f"cannot enqueue {n} keys into a queue of {self.size}", hint="raise the queue size"
            )
        slots = (self.pointer + torch.arange(n, device=self.keys.device)) % self.size
        self.keys[slots] = keys.detach().to(self.keys.dtype)
        self.pointer.copy_((self.pointer + n) % self.size)
        self.seen.add_(n)

    def recent(self, count: int) -> Tensor:
        """The `count` keys enqueued last, oldest first: rows pointer − count … pointer − 1 (mod K)."""
        if not 0 < count <= self.size:
            raise ConfigError(f"cannot take {count} recent keys from a queue of {self.size}")
        slots = (self.pointer - count + torch.arange(count, device=self.keys.device)) % self.size
        return self.keys[slots]
