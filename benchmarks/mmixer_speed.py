"""Training throughput (samples/s) of the multi-modal model configs (configs/model/mmixer_*.yaml), printed as
JSON lines: one training step = forward, cross-entropy, backward and an SGD step on a random NW-UCLA-shaped
batch (kinect20, one person, 3D); each figure is the batch size over the median of `--steps` timed steps
after one untimed step. ``--precision bf16`` runs the step under CPU bf16 autocast (what Lightning's
``bf16-mixed`` does, skelact's default on CPUs with native bf16).

    OMP_NUM_THREADS=1 python benchmarks/mmixer_speed.py                       # every config that builds
    python benchmarks/mmixer_speed.py --configs mmixer_jh mmixer_single_j --frames 32 --batch 16
    python benchmarks/mmixer_speed.py --configs mmixer_jh --set extractor=cfem     # a model_args override
    python benchmarks/mmixer_speed.py --configs mmixer_single_rgb --frames 16 --rgb-size 64 112

A config that reads the ``rgb`` modality (an RGB encoder, docs/rgb.md) gets random uint8 person crops of
each ``--rgb-size`` (one row per size) beside 2D keypoints with a score channel, as J-HMDB's store gives.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from skelact.errors import ConfigError
from skelact.models import create_model

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "model"


def train_rate(
    config: str,
    batch: int,
    frames: int,
    steps: int,
    precision: str,
    overrides: dict[str, Any],
    rgb_size: int | None = None,
) -> dict[str, Any]:
    section = yaml.safe_load((CONFIGS / f"{config}.yaml").read_text())["model"]
    section["model_args"].update(overrides)
    torch.manual_seed(0)
    model = create_model(
        section["model"], layout="kinect20", in_channels=3, num_classes=10, num_persons=1,
        **section["model_args"],
    )  # fmt: skip
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    x = torch.randn(batch, 1, frames, 20, 3)
    extra = {}
    if "rgb" in getattr(model, "inputs", ()):
        extra["rgb"] = torch.randint(0, 256, (batch, frames, 3, rgb_size, rgb_size), dtype=torch.uint8)
    label = torch.randint(0, 10, (batch,))
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = torch.nn.functional.cross_entropy(model(x, **extra), label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i:  # the first step warms up allocators and kernels
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {
        "config": config,
        "overrides": overrides,
        "model": section["model"],
        "parameters": sum(p.numel() for p in model.parameters()),
        "precision": precision,
        "threads": torch.get_num_threads(),
        "batch": batch,
        "frames": frames,
        "rgb_size": rgb_size if extra else None,
        "train_samples_per_s": round(batch / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=sorted(p.stem for p in CONFIGS.glob("mmixer_*.yaml")))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=32, help="clip length (recipes/small.yaml: 32)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="model_args overrides")
    parser.add_argument("--rgb-size", type=int, nargs="+", default=[112], help="crop side(s) for RGB configs")
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)}
    for config in args.configs:
        for size in args.rgb_size:
            try:
                row = train_rate(config, args.batch, args.frames, args.steps, args.precision, overrides, size)
            except ConfigError as err:  # e.g. an encoder that is not registered here
                row = {"config": config, "skipped": str(err)}
            print(json.dumps(row), flush=True)
            if row.get("rgb_size") is None:  # keypoints only: one row
                break


if __name__ == "__main__":
    main()
