# ruff: noqa: E402  (torch is imported after restrict_to_avx2_if_asked, which may re-execute the script)
"""Why `torch.compile` trains slower than eager on CPU (issue 18): the same training step of one backbone,
eager and compiled (Inductor, default mode), timed and profiled side by side, printed as JSON.

For each mode: samples/s (median of ``--steps`` after ``--warmup``; the compiled mode's first step, which
compiles, is reported apart), and the operators that take the most self CPU time over ``--profile-steps``
profiled steps, with their share of the step. Inductor's compiled graphs show up as
``## Call CompiledFxGraph ... ##`` events (their generated C++ kernels inside), the operators it leaves
to ATen (convolutions, matmuls) under their ATen names, so the table says whether the time moved into
generated kernels, into extra convolution / layout work, or into the compiled region's bookkeeping.

    python benchmarks/compile_profile.py --model ctrgcn --shape nw_ucla
    python benchmarks/compile_profile.py --model stgcnpp --shape nw_ucla --avx2
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from cpu_isa import isa_report, restrict_to_avx2_if_asked
from timing import median_seconds

restrict_to_avx2_if_asked()  # before torch loads: --avx2

import torch
from profile_step import SHAPES, training_step
from torch.profiler import ProfilerActivity, profile

from skelact.methods.speed import tune_allocator


def top_operators(step: Callable[[], None], steps: int, top: int) -> dict[str, Any]:
    """The `top` operators by self CPU time per step, and the share of Inductor's compiled graphs."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    per_op: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for event in prof.key_averages():
        per_op[event.key] += event.self_cpu_time_total
        calls[event.key] += event.count
    total = sum(per_op.values()) or 1.0
    generated = sum(t for k, t in per_op.items() if "CompiledFxGraph" in k or "cpp_fused" in k)
    ranked = sorted(per_op.items(), key=lambda kv: -kv[1])[:top]
    return {
        "profiled_ms_per_step": round(total / steps / 1e3, 1),
        "compiled_graphs_share": round(generated / total, 3),
        "top": [
            {"op": k, "share": round(t / total, 3), "calls_per_step": calls[k] / steps} for k, t in ranked
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ctrgcn")
    parser.add_argument("--shape", default="nw_ucla", choices=sorted(SHAPES))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--profile-steps", type=int, default=2)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--avx2", action="store_true", help="restrict the CPU to AVX2 (cpu_isa.py)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    tune_allocator()
    report: dict[str, Any] = {"model": args.model, "shape": args.shape, "batch": args.batch, **isa_report()}
    for mode in ("eager", "compiled"):
        step, _ = training_step(args.model, args.shape, args.batch, compiled=mode == "compiled")
        first = median_seconds(step, repeats=1, warmup=0)  # compiles, for the compiled mode
        seconds = median_seconds(step, repeats=args.steps, warmup=args.warmup)
        report[mode] = {
            "train_samples_per_s": round(args.batch / seconds, 2),
            "first_step_s": round(first, 2),
            **top_operators(step, args.profile_steps, args.top),
        }
    report["compiled_over_eager"] = round(
        report["compiled"]["train_samples_per_s"] / report["eager"]["train_samples_per_s"], 2
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
