"""Classification heads applied to a backbone's pooled embedding."""

from __future__ import annotations

from torch import Tensor, nn


class ClassificationHead(nn.Module):
    """(N, in_features) -> (N, num_classes): dropout then one linear layer.

    Weights start from N(0, 0.01) and zero bias, as PYSKL's GCNHead, so the initial logits are near zero
    and the first loss is about log(num_classes).
    """

    def __init__(self, in_features: int, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.in_features = in_features
        self.num_classes = num_classes
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_features, num_classes)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, features: Tensor) -> Tensor:
        return self.fc(self.drop(features))
