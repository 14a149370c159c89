import pytest
import torch

from skelact.errors import ConfigError
from skelact.models.layers import MultiScaleTemporalConv
from skelact.models.layers.multiscale_temporal import branch_widths


@pytest.mark.parametrize("style", ["ctrgcn", "pyskl"])
@pytest.mark.parametrize(("t", "stride", "t_out"), [(10, 1, 10), (10, 2, 5), (9, 2, 5)])
def test_shapes(style, t, stride, t_out):
    unit = MultiScaleTemporalConv(8, 24, stride, style=style)
    assert unit(torch.randn(2, 8, t, 5)).shape == (2, 24, t_out, 5)


def test_branch_layout():
    assert branch_widths(64, 6, "pyskl") == [14, 10, 10, 10, 10, 10]
    assert branch_widths(64, 4, "ctrgcn") == [16, 16, 16, 16]
    ctr = MultiScaleTemporalConv(16, 16, 1, style="ctrgcn")
    assert [(c.kernel_size, c.dilation) for c in ctr.temporal] == [((5, 1), (1, 1)), ((5, 1), (2, 1))]
    assert ctr.transform is None and ctr.pre.out_channels == 12 and ctr.bn.num_features == 16
    pyskl = MultiScaleTemporalConv(12, 12, 1, style="pyskl")
    assert [c.dilation[0] for c in pyskl.temporal] == [1, 2, 3, 4] and pyskl.transform is not None


def test_each_temporal_branch_sees_only_its_frames():
    """Time-shift equivariance away from the borders: convolution and pooling only look along T."""
    torch.manual_seed(0)
    unit = MultiScaleTemporalConv(4, 8, 1, style="ctrgcn").eval()
    x = torch.randn(1, 4, 30, 3)
    with torch.no_grad():
        y, y_shift = unit(x), unit(torch.roll(x, 1, dims=2))
    torch.testing.assert_close(y_shift[:, :, 6:-6], y[:, :, 5:-7], atol=1e-5, rtol=1e-5)


def test_residual_and_errors():
    with_res = MultiScaleTemporalConv(8, 16, 2, residual=True)
    assert with_res.residual.conv.stride == (2, 1)
    assert isinstance(MultiScaleTemporalConv(8, 8, 1, residual=True).residual, torch.nn.Identity)
    with pytest.raises(ConfigError, match="not a multiple of 4 branches"):
        MultiScaleTemporalConv(8, 10, style="ctrgcn")
    with pytest.raises(ConfigError, match="unknown style 'mmaction'"):
        MultiScaleTemporalConv(8, 8, style="mmaction")
    with pytest.raises(ConfigError, match="kernel_size must be odd"):
        MultiScaleTemporalConv(8, 8, kernel_size=4)
