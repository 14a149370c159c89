"""Every registered graph backbone and the BiGRU serve as a contrastive (MoCo-style) encoder through
`forward_features` / `num_features`: two augmented views, a query encoder with gradients, a momentum copy
as key encoder, an InfoNCE loss on projected features; gradients reach the whole trunk and never the head."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from skelact.data.transforms.ssl_augment import SSLAugment
from skelact.models import create_model

ENCODERS = {
    "stgcn": {"base_channels": 8},
    "stgcnpp": {"base_channels": 8},
    "ctrgcn": {"base_channels": 8},
    "isc_bigru": {"hidden_size": 8},
}


@pytest.mark.parametrize("name", list(ENCODERS))
def test_backbone_trains_as_a_contrastive_encoder(name: str) -> None:
    torch.manual_seed(0)
    query = create_model(name, layout="ntu25", in_channels=3, num_classes=7, num_persons=2, **ENCODERS[name])
    with torch.no_grad():  # CTR-GCN starts with alpha = 0, which hides its refinement convs from gradients
        for n, p in query.named_parameters():
            if n.endswith(".alpha"):
                p.fill_(0.5)
    key = copy.deepcopy(query).requires_grad_(False)
    projection = nn.Sequential(nn.Linear(query.num_features, 16), nn.ReLU(), nn.Linear(16, 8))

    views = torch.randn(4, 2, 2, 12, 25, 3, generator=torch.Generator().manual_seed(1))  # (N, views, ...)
    augment = SSLAugment("ntu25")
    gen = torch.Generator().manual_seed(2)
    first, second = (augment(views[:, i], generator=gen) for i in range(2))

    features = query.forward_features(first)
    assert features.shape == (4, query.num_features)
    q = F.normalize(projection(features), dim=1)
    with torch.no_grad():
        k = F.normalize(projection(key.forward_features(second)), dim=1)
    queue = F.normalize(torch.randn(8, 32, generator=torch.Generator().manual_seed(3)), dim=0)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue], dim=1) / 0.07
    F.cross_entropy(logits, torch.zeros(4, dtype=torch.long)).backward()

    trunk = {n: p for n, p in query.named_parameters() if not n.startswith("head.")}
    no_grad = [n for n, p in trunk.items() if p.grad is None or not p.grad.abs().sum() > 0]
    assert no_grad == []
    assert all(p.grad is None for n, p in query.named_parameters() if n.startswith("head."))
    with torch.no_grad():  # the momentum update pairs parameters one to one
        for p_k, p_q in zip(key.parameters(), query.parameters(), strict=True):
            p_k.mul_(0.999).add_(p_q, alpha=0.001)
