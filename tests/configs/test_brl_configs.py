"""BRL's recipe composes with the long-tail data overlays into the paper's settings (specs/brl.md section 8),
and instantiates: loss, mixup and the rebalanced sampler reach the model and the datamodule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from skelact.cli.lightning import build_cli, composed_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
BRL = {
    "lr_reference_batch": 16,
    "model.model": "stgcnpp",
    "model.lr": 0.0125,
    "model.optimizer": "sgd",
    "model.nesterov": True,
    "model.weight_decay": 5e-4,
    "model.schedule": "cosine",
    "model.warmup_epochs": 0,
    "model.augment": {"scale": 0.1, "rotate": 0.3, "flip": 0.5},
    "model.loss": {"name": "action_aware", "switch_epoch": 20, "beta_lo": 0.99, "beta_hi": 0.9999},
    "model.mixup": {"ratio": 0.0625, "lam": 0.64, "kappa": 3.0, "preserve_joint_order": True},
    "data.clip_len": 64,
    "data.num_test_clips": 10,
    "data.batch_size": 16,
    "data.repeat": 5,
    "data.sampler": "rebalanced",
    "data.rebalance": {"tail_fraction": pytest.approx(1 / 3), "target": "max"},
    "data.val_split": None,
    "trainer.max_epochs": 24,
}
DATA = {
    "ntu60_xsub": ("xsub_train_full_lt100", "xsub_test"),
    "ntu60_xview": ("xview_train_full_lt100", "xview_test"),
    "ntu120_xsub": ("xsub_train_full_lt100", "xsub_test"),
    "ntu120_xset": ("xset_train_full_lt100", "xset_test"),
    "nw_ucla": ("train_full_lt10", "test"),
}


def args_for(data: str, stream: str) -> list[str]:
    files = [f"data/{data}", f"data/longtail/{data}", "model/stgcnpp", "recipes/pyskl", "recipes/brl"]
    files.append(f"streams/{stream}")
    return [arg for name in files for arg in ("--config", str(CONFIGS / f"{name}.yaml"))]


def value(config: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        config = config[key]
    return config


@pytest.mark.parametrize("data", list(DATA))
def test_brl_recipe_on_every_long_tail_dataset(data: str) -> None:
    config = composed_config(args_for(data, "b"))
    train, test = DATA[data]
    for key, want in {
        **BRL,
        "data.train_split": train,
        "data.test_split": test,
        "model.modality": "b",
    }.items():
        got = value(config, key)
        if isinstance(want, dict):
            got = {k: got[k] for k in want}
        assert got == (pytest.approx(want) if isinstance(want, float) else want), (key, got, want)
    base = yaml.safe_load((CONFIGS / "data" / f"{data}.yaml").read_text())["data"]
    assert config["data"]["store"] == base["store"]
    assert config["data"]["normalize"] == base.get("normalize")  # unset: the store's recorded value


def test_brl_recipe_instantiates_and_scales_lr(synthetic_store_3d: Path, tmp_path: Path) -> None:
    args = [
        *("--config", str(CONFIGS / "trainer" / "cpu.yaml")),
        *args_for("ntu60_xsub", "j"),
        *(
            "--data.store",
            str(synthetic_store_3d),
            "--data.train_split",
            "train",
            "--data.test_split",
            "test",
        ),
        *("--data.batch_size", "8", "--data.num_workers", "0", "--trainer.default_root_dir", str(tmp_path)),
    ]
    cli = build_cli(args, run=False)
    assert cli.model.hparams.lr == pytest.approx(0.0125 * 8 / 16)
    assert cli.model.mixup is not None and cli.model.mixup.lam == 0.64 and cli.model.mixup.kappa == 3.0
    assert cli.model.hparams.loss["switch_epoch"] == 20
    assert cli.datamodule.sampler == "rebalanced" and cli.datamodule.val_split is None
    sampler = cli.datamodule.train_dataloader().sampler
    assert type(sampler).__name__ == "RebalancedSampler" and sampler.multipliers.min() == 5


@pytest.mark.parametrize("stream", ["k", "km"])
def test_skip_streams_compose(stream: str) -> None:
    assert composed_config(args_for("nw_ucla", stream))["model"]["modality"] == stream
