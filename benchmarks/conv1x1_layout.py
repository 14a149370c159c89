"""1x1 convolutions (the largest share of a GCN training step, benchmarks/profile_step.py) in three forms,
forward + backward, printed as JSON: NCHW oneDNN convolution, channels-last oneDNN convolution, and a
batched matmul.
Shapes: CTR-GCN's value and residual convolutions at the NW-UCLA shape (batch 16) and one at the NTU shape.

    python benchmarks/conv1x1_layout.py            # idle machine; --avx2 as on an AVX2-only CPU
"""
# ruff: noqa: E402  (torch is imported after restrict_to_avx2_if_asked, which may re-execute the script)

from __future__ import annotations

import json

from cpu_isa import isa_report, restrict_to_avx2_if_asked
from timing import median_seconds

restrict_to_avx2_if_asked()

import torch
import torch.nn.functional as F

# (N, C_in, C_out, T, V)
SHAPES = [(16, 64, 192, 52, 20), (16, 64, 64, 52, 20), (16, 128, 384, 26, 20), (16, 256, 768, 13, 20),
          (32, 64, 192, 64, 25)]  # fmt: skip


def time_shape(n: int, c_in: int, c_out: int, t: int, v: int) -> dict:
    x = torch.randn(n, c_in, t, v, requires_grad=True)
    weight = torch.randn(c_out, c_in, 1, 1, requires_grad=True)
    bias = torch.randn(c_out, requires_grad=True)
    grad = torch.randn(n, c_out, t, v)
    x_last = x.detach().to(memory_format=torch.channels_last).requires_grad_()
    grad_last = grad.contiguous(memory_format=torch.channels_last)
    forms = {
        "nchw": lambda: F.conv2d(x, weight, bias).backward(grad),
        "channels_last": lambda: F.conv2d(x_last, weight, bias).backward(grad_last),
        "matmul": lambda: (
            torch.matmul(weight.view(c_out, c_in), x.view(n, c_in, t * v)) + bias.view(c_out, 1)
        ).backward(grad.view(n, c_out, t * v)),
    }
    flops = 3 * 2 * n * c_in * c_out * t * v
    seconds = {name: median_seconds(step, repeats=9, warmup=2) for name, step in forms.items()}
    return {
        "shape_n_cin_cout_t_v": [n, c_in, c_out, t, v],
        "ms": {k: round(s * 1e3, 2) for k, s in seconds.items()},
        "gflops": {k: round(flops / s / 1e9, 1) for k, s in seconds.items()},
    }


def main() -> None:
    rows = [time_shape(*shape) for shape in SHAPES]
    print(json.dumps({**isa_report(), "threads": torch.get_num_threads(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
