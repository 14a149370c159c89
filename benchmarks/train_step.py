# ruff: noqa: E402  (torch is imported after restrict_to_avx2_if_asked, which may re-execute the script)
"""Training and inference throughput (samples/s) of the graph backbones, printed as JSON.

One training step = forward, cross-entropy, backward, SGD (Nesterov) step on a random batch; one inference
step = eval-mode forward under `torch.inference_mode`. Each figure is the batch size divided by the median
of `--steps` timed steps after `--warmup` untimed ones (the first step's time is reported separately: it
includes torch.compile's compilation when that variant runs).

Variants (`--variants`):
- ``fp32``: the registered model as built (the default path);
- ``bf16``: the same under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (what Lightning's
  ``precision: bf16-mixed`` does);
- ``compile``: ``torch.compile`` of the fp32 model;
- ``frozen``: inference only, ``torch.compile`` of the eval-mode fp32 model with Inductor's ``freezing``
  (weights become constants: BatchNorm folded into convolutions, oneDNN weights pre-packed), under
  ``torch.no_grad``, as PyTorch recommends for CPU inference;
- ``onnx``: inference only, the fp32 model exported to ONNX (`skelact export`'s path) and run by ONNX
  Runtime with the same threads (it folds BatchNorm into convolutions, among its graph optimisations);
- ``literal``: the plain implementation of the same equations in tests/models/backbones/literal.py (the
  official CTR-GCN formulation, PYSKL's ST-GCN / ST-GCN++), loaded with the same weights: the in-repo
  stand-in for the reference code on this machine.

Allocator: on Linux/glibc the script first raises malloc's mmap and trim thresholds (`--allocator tuned`,
the default), so freed activation buffers are reused instead of returned to the OS and faulted in again
every step. Large tensors (> 32 MB, e.g. CTR-GCN's fused per-subset activations at batch 16) otherwise
pay page faults on every allocation, which on this VM costs from ~10 % up to several x, depending on the
host. ``--allocator default`` measures without it.

    python benchmarks/train_step.py                      # ctrgcn, stgcnpp; NW-UCLA and NTU shapes; batch 16
    python benchmarks/train_step.py --models ctrgcn --variants fp32,literal --shape 3,100,25,2 \\
        --layout ntu25 --classes 60
    python benchmarks/train_step.py --variants fp32,literal,onnx --avx2   # as on an AVX2-only CPU
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from cpu_isa import isa_report, restrict_to_avx2_if_asked

restrict_to_avx2_if_asked()  # before torch loads: --avx2

import torch
import torch.nn.functional as F
from torch import nn

from skelact.errors import SkelactError
from skelact.methods.speed import tune_allocator
from skelact.models import create_model
from skelact.models.backbones.ctrgcn import convert_official_state_dict
from skelact.models.backbones.stgcn import convert_pyskl_state_dict

REPO = Path(__file__).resolve().parents[1]
# (C, T, V, M), layout, classes: NW-UCLA (CTR-GCN's 52 frames) and NTU-60 (CTR-GCN's 64 frames).
DEFAULT_CONFIGS: list[tuple[tuple[int, int, int, int], str, int]] = [
    ((3, 52, 20, 1), "kinect20", 10),
    ((3, 64, 25, 2), "ntu25", 60),
]
VARIANTS = ("fp32", "bf16", "compile", "literal", "onnx", "frozen")


def load_literal() -> ModuleType:
    path = REPO / "tests" / "models" / "backbones" / "literal.py"
    spec = importlib.util.spec_from_file_location("skelact_literal_gcns", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def literal_twin(name: str, model: nn.Module, classes: int, persons: int, channels: int) -> nn.Module:
    """The literal implementation of `model` (same architecture), loaded with `model`'s weights."""
    literal = load_literal()
    gcn = model.blocks[0].gcn
    if name == "ctrgcn":
        twin = literal.LiteralCTRGCN(gcn.graph().detach(), classes, persons, channels)
        convert = convert_official_state_dict
    elif name in ("stgcnpp", "stgcn"):
        A_pyskl = gcn.A.detach().transpose(1, 2)
        twin = literal.LiteralPysklSTGCN(
            A_pyskl, classes, persons, channels, "mstcn" if name == "stgcnpp" else "unit_tcn"
        )
        convert = convert_pyskl_state_dict
    else:
        raise ValueError(f"no literal implementation of {name!r}")
    model.load_state_dict(convert(twin.state_dict()))  # checks the twin has exactly the model's parameters
    return twin


def timed(step: Callable[[], None], warmup: int, steps: int) -> tuple[float, float, float]:
    """(median, best, first) seconds per step; the first step is one of the warm-up steps."""
    times = []
    for _ in range(warmup + steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    measured = times[warmup:]
    return statistics.median(measured), min(measured), times[0]


def run_variant(
    name: str,
    variant: str,
    shape: tuple[int, int, int, int],
    layout: str,
    classes: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    c, t, v, m = shape
    torch.manual_seed(0)
    model = create_model(name, layout=layout, in_channels=c, num_classes=classes, num_persons=m)
    if variant == "literal":
        model = literal_twin(name, model, classes, m, c)
    forward: nn.Module = torch.compile(model) if variant == "compile" else model
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, m, t, v, c, generator=gen)
    y = torch.randint(0, classes, (args.batch,), generator=gen)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=4e-4)

    @contextlib.contextmanager
    def precision() -> Iterator[None]:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=variant == "bf16"):
            yield

    def train_step() -> None:
        with precision():
            logits = forward(x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def infer_step() -> None:
        with torch.inference_mode(), precision():
            forward(x)

    if variant == "onnx":
        return {"infer_samples_per_s": onnx_infer_rate(model, x, args)}
    if variant == "frozen":
        return frozen_infer_rate(model, x, args)
    model.train()
    train = timed(train_step, args.warmup, args.steps)
    model.eval()
    infer = timed(infer_step, args.warmup, args.steps)
    return {
        "train_samples_per_s": round(args.batch / train[0], 2),
        "infer_samples_per_s": round(args.batch / infer[0], 2),
        "train_step_s": {
            "median": round(train[0], 3),
            "best": round(train[1], 3),
            "first": round(train[2], 2),
        },
        "infer_step_s": {
            "median": round(infer[0], 3),
            "best": round(infer[1], 3),
            "first": round(infer[2], 2),
        },
    }


def onnx_infer_rate(model: nn.Module, x: torch.Tensor, args: argparse.Namespace) -> float:
    """Samples/s of ONNX Runtime on the exported eval-mode model (median of the timed steps)."""
    import tempfile

    from skelact.inference.export import export_model, load_onnx_session
    from skelact.inference.pipeline import InputModel
    from skelact.models.inputs.modality import ModalityFeatures

    _, m, t, _, c = x.shape
    net = InputModel(ModalityFeatures(model.layout, "j", num_coords=c), model).eval()  # what export writes
    with tempfile.TemporaryDirectory() as tmp:
        path = export_model(net, Path(tmp) / "m.onnx", "onnx", clip_len=t, persons=m)
        session = load_onnx_session(path, threads=torch.get_num_threads())
        feed = {session.get_inputs()[0].name: x.numpy()}
        seconds = timed(lambda: session.run(None, feed), args.warmup, args.steps)[0]
    return round(args.batch / seconds, 2)


def frozen_infer_rate(model: nn.Module, x: torch.Tensor, args: argparse.Namespace) -> dict[str, Any]:
    """Samples/s of the Inductor-compiled eval-mode model with freezing (median of the timed steps)."""
    import torch._inductor.config as inductor_config

    model.eval()
    with inductor_config.patch(freezing=True), torch.no_grad():
        compiled = torch.compile(model)
        median, best, first = timed(lambda: compiled(x), args.warmup, args.steps)
        reference = model(x)
        deviation = (compiled(x) - reference).abs().max().item()
    return {
        "infer_samples_per_s": round(args.batch / median, 2),
        "infer_step_s": {"median": round(median, 3), "best": round(best, 3), "first": round(first, 2)},
        "max_abs_deviation_from_eager": deviation,
    }


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def parse_shape(text: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"--shape needs C,T,V,M, got {text!r}")
    return parts[0], parts[1], parts[2], parts[3]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="*", default=["ctrgcn", "stgcnpp"], help="registered model names")
    parser.add_argument(
        "--variants", default="fp32,bf16,literal", help=f"comma-separated subset of {VARIANTS}"
    )
    parser.add_argument(
        "--shape", type=parse_shape, action="append", help="C,T,V,M (repeatable; replaces defaults)"
    )
    parser.add_argument("--layout", action="append", help="layout per --shape")
    parser.add_argument("--classes", type=int, action="append", help="classes per --shape")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--allocator", choices=("tuned", "default"), default="tuned")
    parser.add_argument("--avx2", action="store_true", help="run as on an AVX2-only CPU (cpu_isa.py)")
    args = parser.parse_args(argv)

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if unknown := [v for v in variants if v not in VARIANTS]:
        parser.error(f"unknown variant(s) {unknown}; choose from {VARIANTS}")
    if args.shape:
        layouts, classes = args.layout or [], args.classes or []
        if len(layouts) != len(args.shape):
            parser.error("give one --layout per --shape")
        configs = [
            (s, lay, classes[i] if i < len(classes) else 60)
            for i, (s, lay) in enumerate(zip(args.shape, layouts, strict=True))
        ]
    else:
        configs = DEFAULT_CONFIGS
    allocator_tuned = tune_allocator() if args.allocator == "tuned" else False
    if args.threads:
        torch.set_num_threads(args.threads)

    results = []
    for shape, layout, num_classes in configs:
        key = "x".join(map(str, shape))
        models: dict[str, Any] = {}
        for name in args.models:
            entry: dict[str, Any] = {}
            for variant in variants:
                try:
                    entry[variant] = run_variant(name, variant, shape, layout, num_classes, args)
                except (ValueError, RuntimeError, SkelactError) as err:  # e.g. no literal twin
                    entry[variant] = {"error": str(err).splitlines()[0]}
                print(f"{name} {key} {variant}: {entry[variant]}", file=sys.stderr, flush=True)
            if "literal" in entry and "error" not in entry["literal"]:
                lit = entry["literal"]
                entry["speedup_vs_literal"] = {
                    v: {
                        kind: round(entry[v][f"{kind}_samples_per_s"] / lit[f"{kind}_samples_per_s"], 2)
                        for kind in ("train", "infer")
                        if f"{kind}_samples_per_s" in entry[v]
                    }
                    for v in variants
                    if v != "literal" and "error" not in entry[v]
                }
            models[name] = entry
        results.append({"input_ctvm": key, "layout": layout, "classes": num_classes, "models": models})

    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "cpu": cpu_name(),
                "cpu_count": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "torch_interop_threads": torch.get_num_interop_threads(),
                "mkldnn_bf16_supported": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
                **isa_report(),
                "allocator_tuned": allocator_tuned,
                "batch": args.batch,
                "warmup_steps": args.warmup,
                "timed_steps": args.steps,
                "load_average_1min_at_end": round(os.getloadavg()[0], 2),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
