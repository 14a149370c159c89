"""M-Mixer and its baselines through the real command line on the synthetic store: fit, test, predict from
the checkpoint alone, and the late fusion of two single-encoder models with `skelact ensemble`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.inference.predictor import Predictor

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TINY_JOINT = {"encoder": "gcn", "backbone": "stgcn", "stream": "j", "model_args": {"base_channels": 4}}
TINY_HEATMAP = {"encoder": "heatmap", "size": 12, "width": 0.125, "blocks": [1, 1, 1]}


def common(store: Path, root: Path, model_config: str, model_args: dict) -> list[str]:
    return [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
        "--config", str(CONFIGS / "model" / model_config),
        "--model.model_args", json.dumps(model_args),
        "--data.store", str(store),
        "--data.clip_len", "8",
        "--data.batch_size", "16",
        "--trainer.max_epochs", "1",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",
        "--trainer.default_root_dir", str(root),
    ]  # fmt: skip


def test_mmixer_with_cfem_fits_tests_and_predicts(synthetic_store_3d: Path, tmp_path: Path) -> None:
    args = {
        "modalities": {"joint": TINY_JOINT, "heatmap": TINY_HEATMAP},
        "dim": 16, "extractor": "cfem", "num_queries": 2, "aux_weight": 0.5,
    }  # fmt: skip
    run = common(synthetic_store_3d, tmp_path, "mmixer_jh.yaml", args)
    assert main(["fit", *run]) == 0
    checkpoint = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    assert main(["test", *run, "--ckpt_path", str(checkpoint), "--model.report_worst", "0"]) == 0
    metrics = json.loads(next(tmp_path.rglob("metrics.json")).read_text())
    assert 0.0 <= metrics["top1"] <= 1.0
    predictor = Predictor.from_checkpoint(checkpoint)  # keypoint-derived modalities only: it predicts
    assert predictor.record.model == "mmixer" and predictor.record.inputs == ("keypoint",)
    moving = np.random.default_rng(0).normal(size=(20, 25, 3)).astype(np.float32)
    assert len(predictor.predict_array(moving, top_k=2).classes) == 2


def test_two_single_encoder_models_fuse_late(
    synthetic_store_3d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = []
    encoder_args = {k: v for k, v in TINY_JOINT.items() if k != "encoder"}
    for name in ("j", "b"):
        args = {"encoder": "gcn", "encoder_args": {**encoder_args, "stream": name}}
        root = tmp_path / name
        run = common(synthetic_store_3d, root, f"mmixer_single_{name}.yaml", args)
        assert main(["fit", *run]) == 0
        checkpoint = root / "version_0" / "checkpoints" / "last.ckpt"
        assert main(["test", *run, "--ckpt_path", str(checkpoint), "--model.report_worst", "0"]) == 0
        scores.append(str(next(root.rglob("scores.npz"))))
    capsys.readouterr()
    assert main(["ensemble", *scores, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["streams"]) == 2 and 0.0 <= result["fused"]["top1"] <= 1.0
