import pytest
import torch

from skelact.errors import ConfigError
from skelact.models.layers import TemporalConv


@pytest.mark.parametrize(("t", "stride", "t_out"), [(10, 1, 10), (10, 2, 5), (9, 2, 5), (7, 3, 3)])
def test_shapes(t, stride, t_out):
    unit = TemporalConv(4, 6, kernel_size=9, stride=stride)
    assert unit(torch.randn(2, 4, t, 5)).shape == (2, 6, t_out, 5)


def test_convolves_time_only_with_centred_kernel():
    unit = TemporalConv(1, 1, kernel_size=3).eval()
    with torch.no_grad():
        unit.conv.weight.copy_(torch.tensor([1.0, 10.0, 100.0]).view(1, 1, 3, 1))
        unit.conv.bias.zero_()
    x = torch.zeros(1, 1, 5, 2)
    x[0, 0, 2, 0] = 1.0  # an impulse at frame 2, joint 0
    out = unit(x) * (1 + unit.bn.eps) ** 0.5  # undo the default BN's 1/sqrt(1 + eps)
    torch.testing.assert_close(out[0, 0, :, 0], torch.tensor([0.0, 100.0, 10.0, 1.0, 0.0]))
    assert torch.count_nonzero(out[0, 0, :, 1]) == 0


def test_dropout_and_bad_kernel():
    assert isinstance(TemporalConv(2, 2, dropout=0.3).drop, torch.nn.Dropout)
    with pytest.raises(ConfigError, match="kernel_size must be odd and positive, got 4"):
        TemporalConv(2, 2, kernel_size=4)
