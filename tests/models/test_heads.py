import torch
from torch import nn

from skelact.models import ClassificationHead


def test_head_shape_and_init():
    torch.manual_seed(0)
    head = ClassificationHead(256, 60)
    assert head(torch.randn(4, 256)).shape == (4, 60)
    assert abs(head.fc.weight.std().item() - 0.01) < 0.0005  # N(0, 0.01), 15,360 samples
    assert torch.count_nonzero(head.fc.bias) == 0
    assert isinstance(head.drop, nn.Identity)


def test_head_dropout_only_in_training():
    head = ClassificationHead(8, 3, dropout=0.5)
    x = torch.ones(64, 8)
    head.eval()
    assert torch.equal(head(x), head.fc(x))
    head.train()
    torch.manual_seed(0)
    assert not torch.allclose(head(x), head.fc(x))
