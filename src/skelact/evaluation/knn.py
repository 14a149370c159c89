"""k-nearest-neighbour classification of embeddings: the self-supervised "action retrieval" protocol.

CMD and HaLP (specs/halp.md §6) L2-normalise the 2048-d encoder features, take the labelled training set as
the gallery and classify each test feature by its nearest gallery feature under cosine similarity (sklearn's
``KNeighborsClassifier(n_neighbors=1, metric="cosine")``). Here the similarities are one matrix product per
chunk of queries, on whatever device the features live, so a 40k x 16k NTU evaluation needs no sklearn and no
(queries x gallery) matrix in memory at once.

For k > 1 the vote is uniform (sklearn's default); a tie goes to the tied class whose best neighbour is
nearest, where sklearn would take the smallest class index: a deliberate difference, stated here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skelact.errors import ConfigError


def knn_predict(
    gallery: torch.Tensor,
    gallery_labels: torch.Tensor,
    queries: torch.Tensor,
    *,
    k: int = 1,
    num_classes: int | None = None,
    chunk: int = 4096,
) -> torch.Tensor:
    """Predicted labels (Q,) of `queries` (Q, D) from `gallery` (G, D) with labels (G,), by cosine k-NN."""
    if gallery.ndim != 2 or queries.ndim != 2 or gallery.shape[1] != queries.shape[1]:
        raise ConfigError(
            f"kNN needs (G, D) gallery and (Q, D) query features, got {tuple(gallery.shape)} and "
            f"{tuple(queries.shape)}"
        )
    if len(gallery) != len(gallery_labels):
        raise ConfigError(f"{len(gallery)} gallery features but {len(gallery_labels)} labels")
    if not 1 <= k <= len(gallery):
        raise ConfigError(f"k must be in [1, {len(gallery)}] (the gallery size), got {k}")
    classes = int(num_classes if num_classes is not None else int(gallery_labels.max()) + 1)
    gallery = F.normalize(gallery.float(), dim=1)
    labels = gallery_labels.long().to(gallery.device)
    out = []
    for start in range(0, len(queries), chunk):
        sims = F.normalize(queries[start : start + chunk].float().to(gallery.device), dim=1) @ gallery.T
        top_sims, top_idx = sims.topk(k, dim=1)  # sorted, nearest first
        neighbour_labels = labels[top_idx]
        if k == 1:
            out.append(neighbour_labels[:, 0])
            continue
        votes = F.one_hot(neighbour_labels, classes).sum(1).float()  # (chunk, classes)
        # Break ties by the nearest neighbour: add a bonus < 1 that is largest for the earliest neighbour.
        rank_bonus = torch.zeros_like(votes)
        order = torch.arange(k, 0, -1, device=votes.device, dtype=votes.dtype) / (k + 1)
        rank_bonus.scatter_reduce_(1, neighbour_labels, order.expand_as(top_sims), reduce="amax")
        out.append((votes + rank_bonus).argmax(1))
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long)


def knn_top1(
    gallery: torch.Tensor,
    gallery_labels: torch.Tensor,
    queries: torch.Tensor,
    query_labels: torch.Tensor,
    *,
    k: int = 1,
    num_classes: int | None = None,
) -> float:
    """Top-1 accuracy in [0, 1] of cosine k-NN classification of `queries`."""
    if len(queries) == 0:
        raise ConfigError("kNN evaluation needs at least one query")
    predicted = knn_predict(gallery, gallery_labels, queries, k=k, num_classes=num_classes)
    return float((predicted.cpu() == query_labels.long().cpu()).float().mean())
