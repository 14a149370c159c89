"""Speed defaults of training and testing: numeric precision and the memory allocator, chosen per machine.

Measured with `python benchmarks/train_step.py` on this project's 2-core CPU (Xeon with AVX-512 BF16/AMX),
CTR-GCN, batch 16, 3 x 52 x 20 x 1 (docs/results.md):

- bf16 autocast trains 1.22x faster than fp32 (33.7 vs 27.7 samples/s), so `trainer.precision`, when not
  set, becomes "bf16-mixed" on CPUs that compute bf16 natively and stays "32-true" on others (emulated bf16
  is several times slower). Elsewhere (CUDA included: not measured here) it stays Lightning's "32-true";
  GPU users choose AMP with `--trainer.precision 16-mixed` or `bf16-mixed` (configs/README.md).
- torch.compile trains 0.58x as fast (15.9 samples/s) on that CPU, so `model.compile` is off by default; it
  is a switch for GPUs, where it was not measured here.
- glibc's default malloc returns large freed buffers (CTR-GCN's per-subset activations exceed 32 MB at batch
  16) to the OS and faults them in again every step: raising its mmap and trim thresholds gives 1.09x
  (27.7 vs 25.3 samples/s). `tune_allocator` does that once per process; SKELACT_ALLOCATOR=default skips it.
"""

from __future__ import annotations

import ctypes
import os
import sys

import torch

# glibc mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
ALLOCATOR_THRESHOLD = 1 << 30  # 1 GiB: every activation buffer of the zoo's models stays in the heap


def tune_allocator() -> bool:
    """Keep freed memory in the process (glibc malloc thresholds); False where not glibc or switched off."""
    if sys.platform != "linux" or os.environ.get("SKELACT_ALLOCATOR", "tuned") == "default":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, ALLOCATOR_THRESHOLD)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, ALLOCATOR_THRESHOLD)
        )
    except (OSError, AttributeError):
        return False


def cpu_has_native_bf16() -> bool:
    """True where oneDNN computes bf16 in hardware (AVX-512 BF16 or AMX), so autocast to bf16 pays off."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def auto_precision(accelerator: str | None) -> str:
    """The Lightning precision a run gets when `trainer.precision` is not set (module docstring)."""
    name = str(accelerator or "auto").lower()
    on_cpu = name == "cpu" or (
        name == "auto" and not torch.cuda.is_available() and not torch.backends.mps.is_available()
    )
    return "bf16-mixed" if on_cpu and cpu_has_native_bf16() else "32-true"
