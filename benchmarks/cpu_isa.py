"""Run a benchmark as on a CPU with AVX2 only (no AVX-512, AMX or native bf16), as CI, laptops and many cloud
VMs are: `restrict_to_avx2_if_asked()` re-executes the script with PyTorch's, oneDNN's and MKL's instruction
sets capped at AVX2 when ``--avx2`` is among its arguments. Call it before importing torch: the libraries
read these variables once, when they first dispatch.

Not a benchmark itself: the scripts beside it import it.
"""

from __future__ import annotations

import os
import sys

AVX2_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def restrict_to_avx2_if_asked() -> None:
    """With ``--avx2`` in sys.argv: exec this script again without it, under `AVX2_ENV` (no return)."""
    if "--avx2" not in sys.argv:
        return
    argv = [arg for arg in sys.argv if arg != "--avx2"]
    os.execve(sys.executable, [sys.executable, *argv], {**os.environ, **AVX2_ENV})


def isa_report() -> dict[str, str | None]:
    """What the run was restricted to (None: not restricted), for the JSON a benchmark prints."""
    import torch

    return {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        **{k: os.environ.get(k) for k in AVX2_ENV},
    }
