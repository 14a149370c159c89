# ruff: noqa: E402  (torch is imported after restrict_to_avx2_if_asked, which may re-execute the script)
"""Where a training step's time goes: per-op-class shares for the graph backbones, printed as JSON.

For each model and input shape, one training step (forward, cross-entropy, backward, SGD Nesterov step on a
random batch) is

- timed without the profiler (median of ``--steps`` after ``--warmup``) -> samples/s and achieved GFLOP/s
  (the step's FLOPs from `torch.utils.flop_counter.FlopCounterMode`: convolutions and matmuls, forward and
  backward);
- profiled with `torch.profiler` over ``--profile-steps`` steps; each operator's self CPU time goes to one
  class: 1x1 convolutions, temporal (k x 1) convolutions, graph matmuls (the adjacency / CTR-GCN topology
  einsums and their backward), BatchNorm, copies (cat, copy_, contiguous), elementwise and other, the
  optimizer step (everything under it);
- with ``--store``, data loading: the main-process time to build one training batch from that store
  (skelact's datamodule, num_workers 0), reported beside the step (share of step + loading).

The machine's fp32 matmul peak (a 2048 x 2048 x 2048 torch.mm, same threads) puts the achieved GFLOP/s in
proportion: ``gflops_in_convs_and_matmuls`` is the step's FLOPs over the time spent in those operators only.
Run it natively and with the CPU restricted to AVX2 (issue 18):

    python benchmarks/profile_step.py --store nw_ucla=runs/nw_ucla/store
    python benchmarks/profile_step.py --avx2 --markdown   # = ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
                                                          #   MKL_ENABLE_INSTRUCTIONS=AVX2 (cpu_isa.py)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cpu_isa import isa_report, restrict_to_avx2_if_asked
from timing import median_seconds

restrict_to_avx2_if_asked()  # before torch loads: --avx2

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function
from torch.utils.flop_counter import FlopCounterMode

from skelact.methods.speed import tune_allocator
from skelact.models import create_model

# name -> ((C, T, V, M), layout, classes): NW-UCLA at CTR-GCN's 52 frames, NTU-60 at its 64 frames.
SHAPES: dict[str, tuple[tuple[int, int, int, int], str, int]] = {
    "nw_ucla": ((3, 52, 20, 1), "kinect20", 10),
    "ntu": ((3, 64, 25, 2), "ntu25", 60),
}
CLASSES = (
    "conv_1x1",
    "conv_temporal",
    "graph_matmul",
    "batch_norm",
    "copies",
    "elementwise_other",
    "optimizer",
)
CONV_OPS = {
    "aten::mkldnn_convolution",
    "aten::convolution_backward",
    "aten::_convolution",
    "aten::convolution",
    "aten::conv2d",
    "aten::_slow_conv2d_forward",
    "aten::_slow_conv2d_backward",
    "aten::thnn_conv2d",
    "aten::_nnpack_spatial_convolution",
}
MATMUL_OPS = {"aten::mm", "aten::bmm", "aten::matmul", "aten::einsum", "aten::baddbmm", "aten::addmm"}
COPY_OPS = {"aten::cat", "aten::copy_", "aten::contiguous", "aten::clone", "aten::_to_copy", "aten::stack"}
OPTIMIZER_SCOPE = "optimizer_step"


def conv_weight_shape(event: Any) -> list[int] | None:
    """The weight shape of a convolution event (forward: input 1; convolution_backward: input 2)."""
    shapes = getattr(event, "input_shapes", None) or []
    index = 2 if event.name == "aten::convolution_backward" else 1
    if len(shapes) > index and len(shapes[index]) >= 3:
        return list(shapes[index])
    parent = event.cpu_parent
    return conv_weight_shape(parent) if parent is not None and parent.name in CONV_OPS else None


def op_class(event: Any) -> str:
    """The class of one operator event (module docstring)."""
    parent = event
    while parent is not None:
        if parent.name == OPTIMIZER_SCOPE:
            return "optimizer"
        parent = parent.cpu_parent
    name = event.name
    if name in CONV_OPS:
        weight = conv_weight_shape(event)
        return "conv_1x1" if weight is not None and all(k == 1 for k in weight[2:]) else "conv_temporal"
    if name in MATMUL_OPS:
        return "graph_matmul"
    if "batch_norm" in name:
        return "batch_norm"
    if name in COPY_OPS:
        return "copies"
    return "elementwise_other"


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """fp32 GFLOP/s of a square torch.mm at the current thread count (median of `repeats`)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - start)
    return round(2 * size**3 / statistics.median(times) / 1e9, 1)


def training_step(
    name: str, shape_name: str, batch: int, compiled: bool = False
) -> tuple[Callable[[], None], torch.nn.Module]:
    """One forward, cross-entropy, backward and SGD step on a fixed random batch (`compiled`: through
    `torch.compile`, for compile_profile.py), and the model."""
    (c, t, v, m), layout, classes = SHAPES[shape_name]
    torch.manual_seed(0)
    model = create_model(name, layout=layout, in_channels=c, num_classes=classes, num_persons=m).train()
    forward = torch.compile(model) if compiled else model
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, m, t, v, c, generator=gen)
    y = torch.randint(0, classes, (batch,), generator=gen)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=4e-4)

    def step() -> None:
        loss = F.cross_entropy(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        with record_function(OPTIMIZER_SCOPE):
            optimizer.step()

    return step, model


def step_flops(step: Callable[[], None]) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def class_shares(step: Callable[[], None], steps: int) -> dict[str, float]:
    """Fraction of the profiled self CPU time per class (CLASSES order)."""
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    totals: dict[str, float] = defaultdict(float)
    for event in prof.events():
        if event.name == OPTIMIZER_SCOPE:  # its children carry the time
            continue
        totals[op_class(event)] += event.self_cpu_time_total
    total = sum(totals.values()) or 1.0
    return {k: round(totals.get(k, 0.0) / total, 3) for k in CLASSES}


def batches(store: str, shape_name: str, batch: int) -> Iterator[Any]:
    """Training batches from `store` at the shape's clip length and persons, forever."""
    from skelact.data.datamodule import SkeletonDataModule

    (_, t, _, m), _, _ = SHAPES[shape_name]
    data = SkeletonDataModule(store, train_split="train", val_split=None, clip_len=t, max_persons=m,
                              batch_size=batch, num_workers=0)  # fmt: skip
    data.setup("fit")
    while True:
        yield from data.train_dataloader()


def loading_seconds(store: str, shape_name: str, batch: int, steps: int) -> float:
    source = batches(store, shape_name, batch)
    next(source)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        next(source)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def profile_model(name: str, shape_name: str, args: argparse.Namespace, peak: float) -> dict[str, Any]:
    step, model = training_step(name, shape_name, args.batch)
    seconds = median_seconds(step, args.steps, args.warmup)
    flops = step_flops(step)
    shares = class_shares(step, args.profile_steps)
    heavy = shares["conv_1x1"] + shares["conv_temporal"] + shares["graph_matmul"]
    result: dict[str, Any] = {
        "params": sum(p.numel() for p in model.parameters()),
        "train_samples_per_s": round(args.batch / seconds, 2),
        "step_s": round(seconds, 4),
        "step_gflop": round(flops / 1e9, 2),
        "gflops_achieved": round(flops / seconds / 1e9, 1),
        "gflops_in_convs_and_matmuls": round(flops / (seconds * heavy) / 1e9, 1) if heavy else None,
        "fraction_of_matmul_peak": round(flops / seconds / 1e9 / peak, 3),
        "shares": shares,
    }
    store = args.stores.get(shape_name)
    if store:
        loading = loading_seconds(store, shape_name, args.batch, args.steps)
        result["data_loading_s_per_batch"] = round(loading, 4)
        result["data_loading_share"] = round(loading / (loading + seconds), 3)
    return result


def markdown(report: dict[str, Any]) -> str:
    head = ["model", "input", "samples/s", "GFLOP/s (peak share)", *CLASSES, "data loading"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for shape_name, models in report["results"].items():
        for name, r in models.items():
            if "error" in r:
                continue
            shares = [f"{100 * r['shares'][k]:.0f} %" for k in CLASSES]
            loading = f"{100 * r['data_loading_share']:.0f} %" if "data_loading_share" in r else "—"
            rate = f"{r['gflops_achieved']} ({100 * r['fraction_of_matmul_peak']:.0f} %)"
            cells = [name, shape_name, f"{r['train_samples_per_s']}", rate, *shares, loading]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_stores(items: list[str]) -> dict[str, str]:
    stores = {}
    for item in items:
        shape_name, _, path = item.partition("=")
        if shape_name not in SHAPES or not path:
            raise SystemExit(f"--store takes SHAPE=PATH with SHAPE in {list(SHAPES)}, got {item!r}")
        if not Path(path).is_dir():
            raise SystemExit(f"--store {item}: {path} is not a store folder")
        stores[shape_name] = path
    return stores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["ctrgcn", "stgcnpp", "psumnet_body"])
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--profile-steps", type=int, default=2)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--store", action="append", default=[], help="SHAPE=PATH: also time data loading")
    parser.add_argument("--markdown", action="store_true", help="print a table after the JSON")
    parser.add_argument("--avx2", action="store_true", help="run as on an AVX2-only CPU (cpu_isa.py)")
    args = parser.parse_args(argv)
    args.stores = parse_stores(args.store)
    tune_allocator()
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = matmul_peak_gflops()
    results: dict[str, dict[str, Any]] = {}
    for shape_name in args.shapes:
        results[shape_name] = {}
        for name in args.models:
            results[shape_name][name] = profile_model(name, shape_name, args, peak)
            print(f"{name} {shape_name}: {results[shape_name][name]}", file=sys.stderr, flush=True)
    report = {
        "torch": torch.__version__,
        **isa_report(),
        "torch_threads": torch.get_num_threads(),
        "batch": args.batch,
        "matmul_peak_gflops": peak,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "results": results,
    }
    print(json.dumps(report, indent=2))
    if args.markdown:
        print(markdown(report))


if __name__ == "__main__":
    main()
