"""Export: TorchScript and ONNX Runtime give the eager network's logits (within 1e-4) for every registered
backbone, with the modality features inside the graph; `skelact export` writes checked files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from skelact.cli.main import main
from skelact.inference.export import example_input, export_model
from skelact.inference.pipeline import InputModel
from skelact.models.inputs.modality import ModalityFeatures
from skelact.models.registry import create_model, list_models, model_options

onnxruntime = pytest.importorskip(
    "onnxruntime", reason="the export extra (onnx, onnxruntime) is not installed"
)
pytest.importorskip("onnx", reason="the export extra (onnx, onnxruntime) is not installed")

CLIP_LEN, PERSONS = 12, 2
# Heatmap models render their input from the coordinates; their narrowest settings.
COORDINATES_ONLY = {
    "heatmap_c3d": {"width": 0.125, "blocks": [1, 1, 1], "size": 16},
    "deformable3d": {"dim": 16, "heads": 2, "size": 16, "volume_width": 0.125, "mlp_ratio": 1.0},
}
# Models on temporal encoders compute their streams from the joints themselves (docs/methods/mmixer.md).
_JOINT = {"backbone": "stgcn", "stream": "j", "model_args": {"base_channels": 4}}
_TWO = {"joint": {"encoder": "gcn", **_JOINT}, "bone": {"encoder": "gcn", **_JOINT, "stream": "b"}}
ON_ENCODERS = {
    "mmixer": {"modalities": _TWO, "dim": 16, "extractor": "cfem", "num_queries": 2},
    "feature_concat": {"modalities": _TWO},
    "temporal_classifier": {"encoder": "gcn", "encoder_args": _JOINT},
}


def _tiny_net(name: str) -> nn.Module:
    """A randomly initialised network of `name`, as narrow as the builder allows, whose batch-norm statistics
    are calibrated on random input so that logits are O(1) and the 1e-4 comparison is meaningful."""
    torch.manual_seed(0)
    # A backbone with its own `modality` option (PSUMNet) computes its features inside; others get them here.
    # Heatmap models render their input from the coordinates: they read the joint stream only.
    own_features = "modality" in model_options(name) or name in COORDINATES_ONLY or name in ON_ENCODERS
    features = ModalityFeatures("ntu25", "j" if own_features else "j,b,jm", num_coords=3)
    narrow = {"base_channels": 8, "hidden_size": 16}  # the graph backbones' and the BiGRU's width
    options = {k: v for k, v in narrow.items() if k in model_options(name)}
    if name in COORDINATES_ONLY:
        options = COORDINATES_ONLY[name]
    options = ON_ENCODERS.get(name, options)
    backbone = create_model(
        name,
        layout="ntu25",
        in_channels=features.out_channels(),
        num_classes=7,
        num_persons=PERSONS,
        **options,
    )
    net = InputModel(features, backbone)
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = None  # cumulative average over the calibration batches
    net.train()
    with torch.no_grad():
        for seed in range(3):
            net(torch.randn(8, PERSONS, CLIP_LEN, 25, 3, generator=torch.Generator().manual_seed(seed)))
    return net.eval()


@pytest.mark.parametrize("name", list_models())
def test_torchscript_and_onnx_match_eager(name: str, tmp_path: Path) -> None:
    net = _tiny_net(name)
    inputs = example_input(net, CLIP_LEN, PERSONS, batch=3) * 0.5
    inputs[0, 1] = 0.0  # a missing second person, as in real data
    with torch.no_grad():
        eager = net(inputs).numpy()
    scripted = torch.jit.load(
        str(export_model(net, tmp_path / "m.pt", "torchscript", clip_len=CLIP_LEN, persons=PERSONS))
    )
    with torch.no_grad():
        np.testing.assert_allclose(scripted(inputs).numpy(), eager, atol=1e-4, rtol=0)
    path = export_model(net, tmp_path / "m.onnx", "onnx", clip_len=CLIP_LEN, persons=PERSONS)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"keypoint": inputs.numpy()})
    np.testing.assert_allclose(logits, eager, atol=1e-4, rtol=0)
    assert np.abs(eager).max() < 1e3  # the comparison is on calibrated, O(1)-scale logits


def test_export_command_writes_both_formats(
    trained_run_2d: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from skelact.inference import Predictor

    predictor = Predictor.from_checkpoint(trained_run_2d["ckpt"])
    for fmt, name in (("onnx", "m.onnx"), ("torchscript", "m.pt")):
        args = [
            "export",
            "--ckpt",
            str(trained_run_2d["ckpt"]),
            "--format",
            fmt,
            "--out",
            str(tmp_path / name),
        ]
        assert main([*args, "--clip-len", "16", "--persons", "2"]) == 0
        assert "(N, 2, 16, 17, 3)" in capsys.readouterr().out  # coco17, x, y, score
    x = torch.rand(2, 2, 16, 17, 3)
    with torch.no_grad():
        eager = predictor.net(x).numpy()
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"keypoint": x.numpy()})[0], eager, atol=1e-4, rtol=0)
    np.testing.assert_allclose(
        torch.jit.load(str(tmp_path / "m.pt"))(x).detach().numpy(), eager, atol=1e-4, rtol=0
    )
    assert not list(tmp_path.glob(".*tmp*"))  # atomic: no temporary files left


def test_export_refuses_an_unknown_format(trained_run_2d: dict[str, Path], tmp_path: Path, capsys) -> None:
    code = main(
        ["export", "--ckpt", str(trained_run_2d["ckpt"]), "--format", "tflite", "--out", str(tmp_path / "m")]
    )
    assert code == 2 and "invalid choice: 'tflite'" in capsys.readouterr().err
