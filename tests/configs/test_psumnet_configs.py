"""PSUMNet's recipe composes with every NTU data config and each stream's model config into the official
settings (specs/psumnet.md section 7), and instantiates: the stream gets the part and the scaled lr."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from skelact.cli.lightning import build_cli, composed_config
from skelact.models.backbones.psumnet import PSUMNet

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
STREAMS = ("body", "hand", "leg")
DATA = ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset", "nw_ucla")
PSUMNET = {
    "lr_reference_batch": 200,
    "model.modality": "j",
    "model.optimizer": "sgd",
    "model.lr": 0.1,
    "model.momentum": 0.9,
    "model.nesterov": True,
    "model.weight_decay": 5e-4,
    "model.label_smoothing": 0.0,
    "model.select_on": "val",
    "model.augment": {"rotate": 0.3},
    "data.sampling": "crop_resize",
    "data.crop_ratio": [0.5, 1.0],
    "data.clip_len": 64,
    "data.num_test_clips": 1,
    "data.batch_size": 200,
}


def args_for(data: str, stream: str) -> list[str]:
    files = [f"data/{data}", f"model/psumnet_{stream}", "recipes/psumnet"]
    return [arg for name in files for arg in ("--config", str(CONFIGS / f"{name}.yaml"))]


def value(config: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        config = config[key]
    return config


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("stream", STREAMS)
def test_recipe_composes_with_data_and_stream(data: str, stream: str) -> None:
    config = composed_config(args_for(data, stream))
    for key, want in {**PSUMNET, "model.model": f"psumnet_{stream}"}.items():
        assert value(config, key) == want, key
    section = yaml.safe_load((CONFIGS / "data" / f"{data}.yaml").read_text())["data"]
    for key in ("store", "train_split", "val_split", "test_split", "max_persons", "normalize"):
        assert value(config, f"data.{key}") == section.get(key), key  # the data config's facts


def test_schedule_is_the_declared_step_schedule_not_the_test_plateau() -> None:
    config = composed_config(args_for("ntu60_xsub", "body"))
    assert value(config, "model.schedule") == "step" and value(config, "model.milestones") == [35, 55]
    assert value(config, "model.warmup_epochs") == 5 and value(config, "trainer.max_epochs") == 65
    text = (CONFIGS / "recipes" / "psumnet.yaml").read_text()
    assert "NOT provided" in text and "test_optimistic" in text


@pytest.mark.parametrize("stream", STREAMS)
def test_stream_instantiates_with_its_part(stream: str, synthetic_store_3d: Path, tmp_path: Path) -> None:
    args = [
        *("--config", str(CONFIGS / "trainer" / "cpu.yaml")),
        *args_for("synthetic3d", stream),
        *("--data.store", str(synthetic_store_3d), "--trainer.default_root_dir", str(tmp_path)),
        *("--data.batch_size", "8", "--data.num_workers", "0"),
        *("--model.model_args", '{"base_channels": 8}'),
    ]
    cli = build_cli(args, run=False)
    backbone = cli.model.net.backbone
    assert isinstance(backbone, PSUMNet)
    assert backbone.part == {"body": "body", "hand": "hands", "leg": "legs"}[stream]
    assert backbone.in_channels == 12 and not backbone.official_quirks
    assert cli.model.hparams.lr == pytest.approx(0.1 * 8 / 200)


def test_official_overlay_switches_the_model_and_the_data(synthetic_store_3d: Path, tmp_path: Path) -> None:
    """recipes/psumnet_official.yaml after the recipe: the released model rules and the feeder's
    valid-frame count, both (either alone gives neither the released input nor the corrected one)."""
    args = [
        *("--config", str(CONFIGS / "trainer" / "cpu.yaml")),
        *args_for("synthetic3d", "leg"),
        *("--config", str(CONFIGS / "recipes" / "psumnet_official.yaml")),
        *("--data.store", str(synthetic_store_3d), "--trainer.default_root_dir", str(tmp_path)),
        *("--data.batch_size", "8", "--data.num_workers", "0"),
    ]
    cli = build_cli(args, run=False)
    backbone = cli.model.net.backbone
    assert isinstance(backbone, PSUMNet) and backbone.official_quirks
    assert backbone.blocks[0].gcn.rel_channels == 1 and not backbone.mmdg.features.mask_missing
    assert cli.datamodule.spec.valid_frames == "count"
    plain = composed_config(args_for("synthetic3d", "leg"))
    assert value(plain, "data.valid_frames") == "last" and not (value(plain, "model.model_args") or {})
