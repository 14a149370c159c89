"""CPU inference speed of one backbone: eager PyTorch, TorchScript and ONNX Runtime.

Latency is the median wall time of one batch-1 forward (a deployment classifying one clip); throughput is
clips per second at batch 64 (offline scoring). Input is raw keypoints (N, M, T, V, C) and the modality
features run inside every variant, as in `skelact export`. Prints one JSON line. Random weights: speed does
not depend on them.

    python benchmarks/infer.py --model stgcn --layout ntu25 --clip-len 64 --modality j
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from timing import median_seconds

from skelact.inference.export import export_model, load_onnx_session
from skelact.inference.pipeline import InputModel
from skelact.models.inputs.modality import ModalityFeatures
from skelact.models.registry import create_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stgcn")
    parser.add_argument("--layout", default="ntu25")
    parser.add_argument("--modality", default="j")
    parser.add_argument("--clip-len", type=int, default=64)
    parser.add_argument("--persons", type=int, default=2)
    parser.add_argument("--classes", type=int, default=60)
    parser.add_argument("--base-channels", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10, help="timed runs at batch 1 (batch 64: a third)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    features = ModalityFeatures(args.layout, args.modality, num_coords=3)
    backbone = create_model(
        args.model,
        layout=args.layout,
        in_channels=features.out_channels(),
        num_classes=args.classes,
        num_persons=args.persons,
        base_channels=args.base_channels,
    )
    net = InputModel(features, backbone).eval()
    shape = (args.persons, args.clip_len, features.layout.num_joints, 3)
    one = torch.randn(1, *shape)
    many = torch.randn(args.batch, *shape)

    with tempfile.TemporaryDirectory() as tmp:
        scripted = torch.jit.load(
            str(
                export_model(
                    net, Path(tmp) / "m.pt", "torchscript", clip_len=args.clip_len, persons=args.persons
                )
            )
        )
        onnx_path = export_model(
            net, Path(tmp) / "m.onnx", "onnx", clip_len=args.clip_len, persons=args.persons
        )
        session = load_onnx_session(onnx_path, threads=args.threads)
        variants: dict[str, Callable[[torch.Tensor], object]] = {
            "eager": net,
            "torchscript": scripted,
            "onnxruntime": lambda x: session.run(None, {"keypoint": x.numpy()}),
        }
        results = {}
        with torch.no_grad():
            for name, forward in variants.items():
                latency = median_seconds(lambda f=forward: f(one), args.repeats)
                batch_time = median_seconds(lambda f=forward: f(many), max(1, args.repeats // 3))
                results[name] = {
                    "latency_ms_batch1": round(latency * 1000, 2),
                    f"throughput_clips_per_s_batch{args.batch}": round(args.batch / batch_time, 1),
                }
    print(
        json.dumps(
            {
                "benchmark": "infer",
                "model": args.model,
                "input": {"N": [1, args.batch], "M": args.persons, "T": args.clip_len, "V": shape[2], "C": 3},
                "modality": args.modality,
                "base_channels": args.base_channels,
                "threads": args.threads,
                "cpu": platform.processor() or platform.machine(),
                "cpu_count": os.cpu_count(),
                "torch": torch.__version__,
                "onnxruntime": __import__("onnxruntime").__version__,
                "numpy": np.__version__,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
