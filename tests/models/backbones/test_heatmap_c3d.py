"""The heatmap-volume 3D CNN: parameter counts, shapes forward and backward, argument checks, and one tiny
`skelact fit` + `skelact test` on the synthetic store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skelact.cli.main import main
from skelact.errors import ConfigError
from skelact.inference.predictor import Predictor
from skelact.models import create_model

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
TINY = {"width": 0.125, "blocks": [1, 1, 1], "size": 16}


def test_parameter_counts() -> None:
    def count(**kwargs: object) -> int:
        model = create_model("heatmap_c3d", num_classes=60, **kwargs)  # type: ignore[arg-type]
        return sum(p.numel() for p in model.parameters())

    assert count(layout="ntu25", in_channels=3) == 142_868
    assert count(layout="coco17", in_channels=3, num_coords=2, width=1.0) == 2_024_860


def test_forward_and_backward_shapes() -> None:
    model = create_model("heatmap_c3d", layout="coco17", in_channels=3, num_classes=7, num_coords=2, **TINY)
    x = torch.rand(2, 2, 8, 17, 3, requires_grad=True)
    features = model.forward_features(x)
    assert features.shape == (2, model.num_features) and model.num_features == 4 * 4 * 4
    logits = model.forward_head(features)
    assert logits.shape == (2, 7)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert model.stem[0][0].weight.grad.abs().sum() > 0


def test_channels_must_be_coordinates_and_an_optional_score() -> None:
    with pytest.raises(ConfigError, match="num_coords"):
        create_model("heatmap_c3d", layout="ntu25", in_channels=6, num_classes=3)


def test_heatmap_model_trains_tests_and_predicts_from_the_cli(
    synthetic_store_3d: Path, tmp_path: Path
) -> None:
    common = [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
        "--config", str(CONFIGS / "model" / "heatmap_c3d.yaml"),
        "--model.model_args", json.dumps(TINY),
        "--data.store", str(synthetic_store_3d),
        "--data.clip_len", "8",
        "--data.batch_size", "16",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",  # bf16 3D convolutions are slow on CPU
        "--trainer.default_root_dir", str(tmp_path),
    ]  # fmt: skip
    assert main(["fit", *common, "--trainer.max_epochs", "1"]) == 0
    checkpoint = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    assert main(["test", *common, "--ckpt_path", str(checkpoint), "--model.report_worst", "0"]) == 0
    metrics = json.loads(next(tmp_path.rglob("metrics.json")).read_text())
    assert 0.0 <= metrics["top1"] <= 1.0
    predictor = Predictor.from_checkpoint(checkpoint)
    assert predictor.record.model == "heatmap_c3d" and predictor.record.inputs == ("keypoint",)
    assert dict(predictor.record.model_args)["size"] == 16
    moving = np.random.default_rng(0).normal(size=(20, 25, 3)).astype(np.float32)
    prediction = predictor.predict_array(moving, top_k=2)
    assert len(prediction.classes) == 2 and 0 < sum(prediction.probabilities) <= 1 + 1e-6
