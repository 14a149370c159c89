"""`skelact fit --method skeletonmae`, then `--method strl` from its checkpoint and `skelact test`, end to
end on the small generated 2D store (coco17 with scores, two persons); the configs compose to the paper's
values (specs/skeletonmae.md sections 9, 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from skelact.cli.lightning import composed_config
from skelact.cli.main import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _args(store: Path, root: Path, *files: str) -> list[str]:
    return [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic2d.yaml"),
        *(arg for name in files for arg in ("--config", str(CONFIGS / "ssl" / name))),
        "--data.val_split", "null",
        "--data.clip_len", "8",
        "--data.batch_size", "8",
        "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "2",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",
        "--data.store", str(store),
        "--trainer.default_root_dir", str(root),
    ]  # fmt: skip


def test_pretraining_then_strl_then_test_through_the_command_line(
    synthetic_store_2d: Path, tmp_path: Path
) -> None:
    small = ["--model.model_args", '{"embed_dim": 8, "gin_hidden": 8}']
    assert main(["fit", *_args(synthetic_store_2d, tmp_path / "mae", "skeletonmae.yaml"), *small]) == 0
    mae_ckpt = tmp_path / "mae" / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(mae_ckpt, map_location="cpu", weights_only=True)
    assert saved["skelact"]["model"] == "skeletonmae"
    assert saved["skelact"]["model_args"]["coords"] == 2  # the score channel is not embedded
    assert saved["skelact"]["pretraining"]["mask_regions"] == ["right_arm", "right_leg"]
    assert "encoder_to_decoder.weight" in saved["state_dict"] and "mask_token" in saved["state_dict"]

    gif = tmp_path / "mae.gif"
    assert main(["render", str(synthetic_store_2d), "--mae", str(mae_ckpt), "--out", str(gif)]) == 0
    assert gif.stat().st_size > 0

    strl = [
        *_args(synthetic_store_2d, tmp_path / "strl", "strl.yaml"),
        "--model.pretrained",
        str(mae_ckpt),
        "--model.model_args",
        '{"num_layers": 1, "max_frames": 8, "mlp_hidden": 16}',
        "--data.batch_size",
        "4",
    ]
    assert main(["fit", *strl]) == 0
    strl_ckpt = tmp_path / "strl" / "version_0" / "checkpoints" / "last.ckpt"
    tuned = torch.load(strl_ckpt, map_location="cpu", weights_only=True)
    assert tuned["skelact"]["model_args"]["embed_dim"] == 8  # the encoder's options, from the pre-training
    assert main(["test", *strl, "--ckpt_path", str(strl_ckpt)]) == 0
    metrics = json.loads((tmp_path / "strl" / "version_1" / "test" / "metrics.json").read_text())
    assert {"top1", "mean_class_accuracy"} <= set(metrics)


def test_paper_configs_compose() -> None:
    files = ["data/ntu60_xsub_hrnet.yaml", "ssl/ntu60_xsub.yaml", "ssl/skeletonmae.yaml"]
    config = composed_config([arg for name in files for arg in ("--config", str(CONFIGS / name))])
    model, data = config["model"], config["data"]
    assert data["train_split"] == "xsub_train_full" and data["val_split"] is None
    assert data["normalize"] == "image" and data["with_score"] is True  # PYSKL's PreNormalize2D
    assert config["method"] == "skeletonmae" and config["trainer"]["max_epochs"] == 50
    assert model["lr"] == pytest.approx(1.5e-4) and model["weight_decay"] == 0.0
    assert model["mask_regions"] == ["right_arm", "right_leg"] and model["beta"] == 2.0
    assert model["model_args"]["gin_layers"] == 3 and model["model_args"]["embed_dim"] == 64
    assert data["batch_size"] * data["clip_len"] * 2 == 1024  # frame-graphs per step
    files = ["data/ntu60_xsub_hrnet.yaml", "ssl/strl.yaml"]
    config = composed_config([arg for name in files for arg in ("--config", str(CONFIGS / name))])
    model = config["model"]
    assert config["method"] == "strl" and config["trainer"]["max_epochs"] == 110
    assert (model["lr"], model["warmup_epochs"], model["milestones"]) == (0.1, 5, [90, 100])
    assert model["label_smoothing"] == 0.1 and config["data"]["batch_size"] == 128


def test_nw_ucla_cpu_configs_compose() -> None:
    files = [
        "trainer/cpu.yaml",
        "data/nw_ucla.yaml",
        "ssl/skeletonmae.yaml",
        "ssl/skeletonmae_nw_ucla_cpu.yaml",
    ]
    config = composed_config([arg for name in files for arg in ("--config", str(CONFIGS / name))])
    data = config["data"]
    assert data["train_split"] == "train_full" and data["val_split"] is None
    assert data["batch_size"] * data["clip_len"] == 1024 and data["max_persons"] == 1
    files = ["trainer/cpu.yaml", "data/nw_ucla.yaml", "ssl/strl.yaml", "ssl/strl_nw_ucla_cpu.yaml"]
    config = composed_config([arg for name in files for arg in ("--config", str(CONFIGS / name))])
    assert config["model"]["milestones"] == [11, 13] and config["trainer"]["max_epochs"] == 15
    assert config["model"]["model_args"]["max_frames"] >= config["data"]["clip_len"]
