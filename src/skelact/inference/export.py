"""Export a trained network to TorchScript or ONNX: raw keypoints (N, M, T, V, C) in, logits out.

The exported graph is the checkpoint's `InputModel`, so the modality features (bones, motions) are computed
inside it and a deployment feeds the same keypoints the predictor would. Both exports are traced with a
dynamic batch axis; persons, frames, joints and channels are fixed at export time (`--persons`,
`--clip-len`), as the graph networks reshape by them. Files are written atomically.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skelact.atomic import atomic_path
from skelact.errors import ConfigError, SkelactError

EXPORT_FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17
INPUT_NAME, OUTPUT_NAME = "keypoint", "logits"


def example_input(net: nn.Module, clip_len: int, persons: int, batch: int = 2) -> torch.Tensor:
    """A random (batch, persons, clip_len, V, C) input shaped for `net` (an `InputModel`)."""
    features = net.features  # type: ignore[attr-defined]
    generator = torch.Generator().manual_seed(0)
    return torch.randn(
        batch, persons, clip_len, features.layout.num_joints, features.in_channels, generator=generator
    )


def export_model(net: nn.Module, out: str | Path, fmt: str, *, clip_len: int = 64, persons: int = 2) -> Path:
    """Write `net` as `fmt` ("onnx" or "torchscript") to `out`; returns the path."""
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}", hint=f"choose one of {', '.join(EXPORT_FORMATS)}")
    if clip_len < 1 or persons < 1:
        raise ConfigError("--clip-len and --persons must be positive")
    extra = [name for name in getattr(net, "inputs", ("keypoint",)) if name != "keypoint"]
    if extra:
        raise ConfigError(
            f"the model needs the sample modality {', '.join(map(repr, extra))} besides keypoints; "
            "export takes keypoint-only models"
        )
    net = net.eval()
    example = example_input(net, clip_len, persons)
    out = Path(out)
    with atomic_path(out) as tmp:
        if fmt == "torchscript":
            _export_torchscript(net, example, tmp)
        else:
            _export_onnx(net, example, tmp)
    return out


def _export_torchscript(net: nn.Module, example: torch.Tensor, path: Path) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        # The backbones' shape checks become constants in the trace: that is intended (fixed shapes).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(net, example, check_trace=False)
    torch.jit.save(torch.jit.freeze(traced), str(path))


def _export_onnx(net: nn.Module, example: torch.Tensor, path: Path) -> None:
    try:
        import onnx
    except ImportError:
        raise SkelactError(
            "ONNX export needs the onnx package",
            hint='install the export extra: pip install "skelact[export]"',
        ) from None
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and exporter deprecation chatter
        # The TorchScript-based exporter: it needs no onnxscript and handles the graph networks' einsums.
        torch.onnx.export(
            net,
            (example,),
            str(path),
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=ONNX_OPSET,
        )
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def load_onnx_session(path: str | Path, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session for an exported file (`threads`: intra-op threads, default ORT's)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise SkelactError(
            "running ONNX needs onnxruntime", hint='install the export extra: pip install "skelact[export]"'
        ) from None
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
