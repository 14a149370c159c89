import pytest
import torch
from torch import nn

from skelact.models.layers.frame_axis import conv_over_frames, max_pool_over_frames


@pytest.mark.parametrize(("kernel", "stride", "dilation"), [(5, 1, 1), (5, 2, 2), (1, 2, 1), (9, 1, 1)])
def test_temporal_conv_gives_the_transposed_output_on_frames_last(kernel, stride, dilation):
    conv = nn.Conv2d(4, 6, (kernel, 1), (stride, 1), ((kernel - 1) * dilation // 2, 0), (dilation, 1))
    x = torch.randn(2, 4, 11, 7)
    expected = conv_over_frames(conv, x, time_last=False)
    torch.testing.assert_close(expected, conv(x))
    got = conv_over_frames(conv, x.transpose(2, 3).contiguous(), time_last=True)
    torch.testing.assert_close(got, expected.transpose(2, 3), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("stride", [1, 2])
def test_max_pool_gives_the_transposed_output_on_frames_last(stride):
    pool = nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0))
    x = torch.randn(2, 4, 11, 7)
    got = max_pool_over_frames(pool, x.transpose(2, 3), time_last=True)
    torch.testing.assert_close(got, pool(x).transpose(2, 3))
