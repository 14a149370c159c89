"""Print parameters and MACs of every registered model as JSON.

MACs are `torch.utils.flop_counter.FlopCounterMode` FLOPs / 2 for one sample (batch 1, eval mode); they
count convolutions, matmuls (mm, bmm, einsum) and linear layers, not normalisation, pooling, elementwise
operations or activations, like the figures papers quote as "FLOPs" (reference-results.md 9.1 measured the
official models the same way). `macs` is what skelact's implementation executes. Where that differs from the
published formulation, `macs_official_order` counts the same model run in the official order of operations
(CTR-GCN: conv1/conv2 of every CTRGC on every frame before the temporal mean, instead of on the mean: the
same outputs, 1.94 G against 1.77 G MACs at 3 x 64 x 25 x 2).

    python benchmarks/model_cost.py          # ntu25 3x64x25x2 / 60 classes; kinect20 3x52x20x1 / 10 classes
    python benchmarks/model_cost.py --shape 3,100,25,2 --layout ntu25 --classes 60 --models stgcn
    python benchmarks/model_cost.py --shape 3,64,25,2 --layout ntu25 --models psumnet_body psumnet_hand \
        psumnet_leg --model-args '{"official_quirks": true}'

Multi-stream methods also get one entry for all their streams together (`STREAM_SETS`, e.g. PSUMNet's body,
hand and leg streams: 2.89 G MACs in the official order at 3 x 64 x 25 x 2, where each stream reads
12 x 64 x V_part x 2 after its part selection and unified modalities).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from skelact.errors import SkelactError
from skelact.models import create_model, list_models
from skelact.skeleton import list_layouts

# (C, T, V, M), layout, classes: NTU-60 at CTR-GCN's 64 frames; NW-UCLA (Kinect v1, 20 joints, 52 frames).
DEFAULT_CONFIGS: list[tuple[tuple[int, int, int, int], str, int]] = [
    ((3, 64, 25, 2), "ntu25", 60),
    ((3, 52, 20, 1), "kinect20", 10),
]
# Models trained as separate streams and fused late: their cost together.
STREAM_SETS: dict[str, tuple[str, ...]] = {
    "psumnet_3_streams": ("psumnet_body", "psumnet_hand", "psumnet_leg"),
}


def model_cost(
    name: str,
    shape: tuple[int, int, int, int],
    layout: str,
    classes: int,
    model_args: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    c, t, v, m = shape
    model = create_model(
        name, layout=layout, in_channels=c, num_classes=classes, num_persons=m, **(model_args or {})
    ).eval()
    x = torch.zeros(1, m, t, v, c)

    def macs() -> int:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
        return counter.get_total_flops() // 2

    result: dict[str, Any] = {"params": sum(p.numel() for p in model.parameters()), "macs": macs()}
    reorderable = [unit for unit in model.modules() if getattr(unit, "pool_first", False)]
    if reorderable:
        for unit in reorderable:
            unit.pool_first = False
        result["macs_official_order"] = macs()
    return result


def stream_sets(models: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Summed params and MACs of every `STREAM_SETS` entry whose streams were all measured."""
    out = {}
    for name, members in STREAM_SETS.items():
        found = [models.get(m) for m in members]
        if all(f is not None and "error" not in f for f in found):
            keys = [k for k in found[0] if all(k in f for f in found)]  # type: ignore[union-attr]
            out[name] = {k: sum(f[k] for f in found) for k in keys}  # type: ignore[index]
    return out


def parse_shape(text: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"--shape needs C,T,V,M, got {text!r}")
    return parts[0], parts[1], parts[2], parts[3]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shape", type=parse_shape, help="C,T,V,M of one sample")
    parser.add_argument("--layout", help="layout name (needed with --shape)")
    parser.add_argument("--classes", type=int, default=60)
    parser.add_argument("--models", nargs="*", help="registered model names (default: all)")
    parser.add_argument("--model-args", type=json.loads, default=None, help="JSON options for every model")
    args = parser.parse_args(argv)

    if args.shape is not None or args.layout is not None:
        if args.shape is None or args.layout is None:
            parser.error("--shape and --layout go together")
        configs = [(args.shape, args.layout, args.classes)]
    else:
        configs = [cfg for cfg in DEFAULT_CONFIGS if cfg[1] in list_layouts()]

    results = []
    for shape, layout, classes in configs:
        models: dict[str, Any] = {}
        for name in args.models or list_models():
            try:
                models[name] = model_cost(name, shape, layout, classes, args.model_args)
            except SkelactError as err:  # e.g. a part-based model on a layout without those parts
                models[name] = {"error": str(err)}
        results.append(
            {
                "input_ctvm": "x".join(map(str, shape)),
                "layout": layout,
                "classes": classes,
                "model_args": args.model_args,
                "models": models,
                "stream_sets": stream_sets(models),
            }
        )
    print(json.dumps({"torch": torch.__version__, "results": results}, indent=2))


if __name__ == "__main__":
    main()
