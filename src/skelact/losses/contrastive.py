"""MoCo's contrastive loss: InfoNCE of a query against its key (the positive) and a queue of negatives.

Plain functions on L2-normalised embeddings, usable without a Trainer (specs/halp.md §4.2): the logits are
[q·k, q·queue] / τ and the loss is the cross-entropy with the positive at index 0 (He et al. 2020).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from skelact.errors import ConfigError


def info_nce_logits(query: Tensor, key: Tensor, queue: Tensor, temperature: float) -> Tensor:
    """(N, D) queries, (N, D) keys, (K, D) negatives → (N, 1 + K) float32 logits, the positive in column 0.

    Computed in float32 with autocast off: at τ = 0.07 the logits reach ±14.3, where bfloat16 resolves steps
    of 0.06, coarser than the differences the loss learns from.
    """
    if temperature <= 0:
        raise ConfigError(f"temperature must be > 0, got {temperature}")
    with torch.autocast(query.device.type, enabled=False):
        query, key, queue = query.float(), key.float(), queue.float()
        positive = (query * key).sum(dim=1, keepdim=True)
        negative = query @ queue.t()
        return torch.cat([positive, negative], dim=1) / temperature


def info_nce(query: Tensor, key: Tensor, queue: Tensor, temperature: float) -> Tensor:
    """Mean InfoNCE loss of a batch; `key` and `queue` carry no gradient in MoCo (the caller detaches)."""
    logits = info_nce_logits(query, key, queue, temperature)
    target = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits, target)
