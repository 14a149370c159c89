"""Self-supervised pre-training throughput (samples/s) of the SSL encoders (MoCo steps, SkeletonMAE steps)
and of STRL fine-tuning, and the BiGRU's speed-up over the official frame-by-frame loop, printed as JSON.

One pre-training step is the MoCo step of specs/halp.md 4.2 without data loading: `SSLAugment` on each of
the two views (on the device), query encoder + MLP projection (2048-2048-128 for the BiGRU) on view 1 with
gradients, EMA update (m = 0.999) of the key encoder and projection, keys on view 2 without gradients,
InfoNCE against a 16,384-key queue (tau = 0.07), backward, SGD (momentum 0.9, weight decay 1e-4), enqueue.
Samples/s is the batch size divided by the median of `--steps` timed steps after `--warmup` untimed ones.

Encoders (`--encoders`):
- ``bigru_ntu``: the official NTU configuration, ntu25, 2 persons x 25 joints x 3 = 150 inputs, hidden 1024,
  3 layers, 64 frames (45.1 M parameters);
- ``bigru_cpu``: a CPU-sized BiGRU for NW-UCLA, kinect20, 1 person (60 inputs), `--cpu-hidden` (256) wide,
  3 layers, 64 frames;
- ``stgcnpp_ntu``: ST-GCN++ at its defaults on ntu25 x 2 persons, 64 frames (a GCN encoder);
- ``skeletonmae_coco`` / ``strl_coco``: the paper's setting, coco17 2D x 2 persons, 64 frames; a
  SkeletonMAE pre-training step (`SkeletonMAE.reconstruct`: noise, region mask, GIN encoder and decoder on
  every frame-graph, RCE, backward, Adam 1.5e-4) and an STRL training step (3 STRL layers, cross-entropy
  with label smoothing 0.1, backward, SGD 0.1 Nesterov, weight decay 5e-4), 60 classes;
- ``skeletonmae_ucla`` / ``strl_ucla``: the CPU NW-UCLA configs, kinect20 3D x 1 person, 32 frames, 10
  classes. For SkeletonMAE a sample is a sequence: M x T frame-graphs (``graphs_per_s`` is reported too).
Variants: ``fp32``, ``bf16`` (``torch.autocast`` to bfloat16, what ``precision: bf16-mixed`` does).

The loop check times forward + backward of the BiGRU features, vectorised (`ISCBiGRU`) against the official
formulation (`LiteralBiGRU` in tests/models/backbones/literal.py: one bidirectional multi-layer ``nn.GRU``
call per frame with its state carried) loaded with the same weights, in the same process and threads, timed
in turns: ``per_frame_loop`` keeps only the last frame's output, ``official_loop`` also grows the outputs by
concatenation every frame as the official code does. It reports the ratios of the medians and the largest
feature difference.

    python benchmarks/ssl_step.py                                 # all encoders, fp32 and bf16, batch 16
    python benchmarks/ssl_step.py --encoders bigru_cpu --variants fp32 --cpu-hidden 128 --batch 32
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from train_step import cpu_name, load_literal, timed  # benchmarks/ is the script's directory

from skelact.data.transforms.ssl_augment import SSLAugment
from skelact.methods.speed import tune_allocator
from skelact.models import create_model
from skelact.models.backbones.bigru import convert_official_bigru_state_dict

VARIANTS = ("fp32", "bf16")
QUEUE, DIM, TAU, MOMENTUM = 16384, 128, 0.07, 0.999


@dataclass(frozen=True)
class EncoderSpec:
    model: str
    layout: str
    persons: int
    joints: int
    frames: int
    options: dict[str, Any]
    kind: str = "moco"  # which step is timed: "moco", "skeletonmae" or "strl"
    coords: int = 3


def encoder_specs(args: argparse.Namespace) -> dict[str, EncoderSpec]:
    return {
        "bigru_ntu": EncoderSpec("isc_bigru", "ntu25", 2, 25, 64, {"hidden_size": 1024, "num_layers": 3}),
        "bigru_cpu": EncoderSpec(
            "isc_bigru", "kinect20", 1, 20, args.cpu_frames, {"hidden_size": args.cpu_hidden, "num_layers": 3}
        ),
        "stgcnpp_ntu": EncoderSpec("stgcnpp", "ntu25", 2, 25, 64, {}),
        "skeletonmae_coco": EncoderSpec("skeletonmae", "coco17", 2, 17, 64, {}, "skeletonmae", 2),
        "skeletonmae_ucla": EncoderSpec("skeletonmae", "kinect20", 1, 20, 32, {}, "skeletonmae", 3),
        "strl_coco": EncoderSpec("strl", "coco17", 2, 17, 64, {}, "strl", 2),
        "strl_ucla": EncoderSpec("strl", "kinect20", 1, 20, 32, {"max_frames": 32}, "strl", 3),
    }


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build(spec: EncoderSpec, device: torch.device, classes: int = DIM) -> nn.Module:
    return create_model(
        spec.model,
        layout=spec.layout,
        in_channels=3,
        num_classes=classes,
        num_persons=spec.persons,
        **spec.options,
    ).to(device)


def pretrain_step(
    spec: EncoderSpec, variant: str, args: argparse.Namespace, device: torch.device
) -> Callable:
    """A closure running one MoCo pre-training step (module docstring) on a fixed random two-view batch."""
    torch.manual_seed(0)
    encoder_q = build(spec, device)
    width = encoder_q.num_features
    projection_q = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, DIM)).to(device)
    encoder_k, projection_k = copy.deepcopy(encoder_q), copy.deepcopy(projection_q)
    key_params = [*encoder_k.parameters(), *projection_k.parameters()]
    query_params = [*encoder_q.parameters(), *projection_q.parameters()]
    for p in key_params:
        p.requires_grad_(False)
    optimizer = torch.optim.SGD(query_params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    augment = SSLAugment(spec.layout).to(device)
    gen = torch.Generator(device).manual_seed(0)
    views = torch.randn(
        args.batch, 2, spec.persons, spec.frames, spec.joints, 3, device=device, generator=gen
    )
    queue = F.normalize(torch.randn(DIM, QUEUE, device=device, generator=gen), dim=0)
    target = torch.zeros(args.batch, dtype=torch.long, device=device)
    pointer = [0]

    @contextlib.contextmanager
    def precision() -> Iterator[None]:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=variant == "bf16"):
            yield

    def step() -> None:
        with precision():
            first, second = augment(views[:, 0], generator=gen), augment(views[:, 1], generator=gen)
            q = F.normalize(projection_q(encoder_q.forward_features(first)).float(), dim=1)
            with torch.no_grad():
                torch._foreach_mul_(key_params, MOMENTUM)
                torch._foreach_add_(key_params, query_params, alpha=1.0 - MOMENTUM)
                k = F.normalize(projection_k(encoder_k.forward_features(second)).float(), dim=1)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue], dim=1) / TAU
        loss = F.cross_entropy(logits, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            start = pointer[0]
            queue[:, start : start + args.batch] = k.T
            pointer[0] = (start + args.batch) % QUEUE
        sync(device)

    return step


def autocast(device: torch.device, variant: str) -> contextlib.AbstractContextManager:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=variant == "bf16")


def skeletonmae_step(
    spec: EncoderSpec, variant: str, args: argparse.Namespace, device: torch.device
) -> Callable:
    """A closure running one SkeletonMAE pre-training step on a fixed random batch (module docstring)."""
    from skelact.methods.skeletonmae import SkeletonMAE

    torch.manual_seed(0)
    model = SkeletonMAE(
        layout=spec.layout, num_channels=spec.coords, num_coords=spec.coords, num_persons=spec.persons
    ).to(device)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1.5e-4)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, spec.persons, spec.frames, spec.joints, spec.coords, generator=gen)
    x = (x * 2 - 1).to(device)

    def step() -> None:
        with autocast(device, variant):
            loss = model.loss(model.reconstruct(x, gen))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync(device)

    return step


def strl_step(spec: EncoderSpec, variant: str, args: argparse.Namespace, device: torch.device) -> Callable:
    """A closure running one STRL training step on a fixed random labelled batch (module docstring)."""
    torch.manual_seed(0)
    classes = 60 if spec.persons == 2 else 10
    model = create_model(
        "strl", layout=spec.layout, in_channels=spec.coords, num_classes=classes, num_persons=spec.persons,
        **spec.options,
    ).to(device)  # fmt: skip
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, spec.persons, spec.frames, spec.joints, spec.coords, generator=gen).to(device)
    label = torch.randint(classes, (args.batch,), generator=gen).to(device)

    def step() -> None:
        with autocast(device, variant):
            loss = F.cross_entropy(model(x).float(), label, label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync(device)

    return step


STEPS = {"moco": pretrain_step, "skeletonmae": skeletonmae_step, "strl": strl_step}


def interleaved(runs: dict[str, Callable[[], None]], warmup: int, steps: int) -> dict[str, float]:
    """Median seconds of each run, timed in turns (a, b, c, a, b, c, ...) so that load from other processes
    on a shared machine falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for repeat in range(warmup + steps):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if repeat >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def loop_check(spec: EncoderSpec, args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Forward + backward of the features: vectorised vs the per-frame loops, same weights and input."""
    torch.manual_seed(0)
    hidden, layers = spec.options["hidden_size"], spec.options["num_layers"]
    literal = load_literal()
    inputs = spec.persons * spec.joints * 3
    loop = literal.LiteralBiGRU(inputs, hidden, layers, DIM).to(device)
    official = literal.LiteralBiGRU(inputs, hidden, layers, DIM, concat_outputs=True).to(device)
    official.load_state_dict(loop.state_dict())
    model = build(spec, device)
    model.load_state_dict(convert_official_bigru_state_dict(loop.state_dict()))
    x = torch.randn(args.batch, spec.persons, spec.frames, spec.joints, 3, device=device)

    def forward_backward(net: nn.Module) -> Callable[[], None]:
        def run() -> None:
            net.zero_grad(set_to_none=True)
            net.forward_features(x).square().mean().backward()
            sync(device)

        return run

    runs = {
        name: forward_backward(net)
        for name, net in (("vectorised", model), ("per_frame_loop", loop), ("official_loop", official))
    }
    times = interleaved(runs, args.warmup, args.steps)
    with torch.no_grad():
        difference = (model.forward_features(x) - loop.forward_features(x)).abs().max().item()
    return {
        **{f"{name}_s": round(t, 4) for name, t in times.items()},
        "speedup_vs_per_frame_loop": round(times["per_frame_loop"] / times["vectorised"], 2),
        "speedup_vs_official_loop": round(times["official_loop"] / times["vectorised"], 2),
        "max_feature_difference": float(f"{difference:.2e}"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--encoders",
        default="bigru_ntu,bigru_cpu,stgcnpp_ntu,skeletonmae_coco,skeletonmae_ucla,strl_coco,strl_ucla",
    )
    parser.add_argument("--variants", default="fp32,bf16", help=f"comma-separated subset of {VARIANTS}")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--cpu-hidden", type=int, default=256, help="hidden size of bigru_cpu")
    parser.add_argument("--cpu-frames", type=int, default=64, help="clip length of bigru_cpu")
    parser.add_argument("--no-loop-check", action="store_true", help="skip the per-frame loop comparison")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)

    specs = encoder_specs(args)
    names = [n.strip() for n in args.encoders.split(",") if n.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if unknown := [n for n in names if n not in specs] + [v for v in variants if v not in VARIANTS]:
        parser.error(
            f"unknown encoder(s) or variant(s) {unknown}; encoders: {list(specs)}, variants: {VARIANTS}"
        )
    device = torch.device(args.device)
    allocator_tuned = tune_allocator() if device.type == "cpu" else False
    if args.threads:
        torch.set_num_threads(args.threads)

    pretrain: dict[str, Any] = {}
    loops: dict[str, Any] = {}
    for name in names:
        spec = specs[name]
        pretrain[name] = {"model": spec.model, "step": spec.kind, "frames": spec.frames, **spec.options}
        for variant in variants:
            step = STEPS[spec.kind](spec, variant, args, device)
            median, best, first = timed(step, args.warmup, args.steps)
            pretrain[name][variant] = {
                "samples_per_s": round(args.batch / median, 2),
                "step_s": {"median": round(median, 3), "best": round(best, 3), "first": round(first, 2)},
            }
            if spec.kind == "skeletonmae":
                graphs = args.batch * spec.persons * spec.frames
                pretrain[name][variant]["graphs_per_s"] = round(graphs / median, 1)
            print(f"{name} {variant}: {pretrain[name][variant]}", file=sys.stderr, flush=True)
        if spec.model == "isc_bigru" and not args.no_loop_check:
            loops[name] = loop_check(spec, args, device)
            print(f"{name} loop check: {loops[name]}", file=sys.stderr, flush=True)

    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "device": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name(),
                "cpu_count": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "allocator_tuned": allocator_tuned,
                "batch": args.batch,
                "warmup_steps": args.warmup,
                "timed_steps": args.steps,
                "load_average_1min_at_end": round(os.getloadavg()[0], 2),
                "pretrain": pretrain,
                "vectorised_vs_per_frame_loop": loops,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
