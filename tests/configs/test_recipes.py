"""Recipes compose with data, model and stream configs into the papers' settings; lr scales with the batch.

Every sensible combination is parsed through `skelact fit --print_config` and checked against the values the
papers' code uses (specs/formats-and-preprocessing.md 4.1, 4.2, 5), so a recipe file cannot drift from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from skelact.cli.lightning import build_cli, composed_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
NTU = ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset")
STREAMS = ("j", "b", "jm", "bm")
# Model configs written by other work items join the matrix as soon as their files exist.
MODELS = tuple(m for m in ("stgcn", "stgcnpp", "ctrgcn") if (CONFIGS / "model" / f"{m}.yaml").exists())

CTRGCN = {
    "lr_reference_batch": 64,
    "model.optimizer": "sgd",
    "model.lr": 0.1,
    "model.momentum": 0.9,
    "model.nesterov": True,
    "model.weight_decay": 4e-4,
    "model.schedule": "step",
    "model.warmup_epochs": 5,
    "model.milestones": [35, 55],
    "model.gamma": 0.1,
    "model.augment": {"rotate": 0.3},
    "data.sampling": "crop_resize",
    "data.crop_ratio": [0.5, 1.0],
    "data.clip_len": 64,
    "data.num_test_clips": 1,
    "data.batch_size": 64,
    "trainer.max_epochs": 65,
}
PYSKL = {
    "lr_reference_batch": 128,
    "model.optimizer": "sgd",
    "model.lr": 0.1,
    "model.momentum": 0.9,
    "model.nesterov": True,
    "model.weight_decay": 5e-4,
    "model.schedule": "cosine",
    "model.warmup_epochs": 0,
    "model.augment": None,
    "data.sampling": "uniform",
    "data.clip_len": 100,
    "data.num_test_clips": 10,
    "data.batch_size": 128,
    "data.repeat": 5,  # 16 epochs x 5 = PYSKL's 80 effective epochs
    "trainer.max_epochs": 16,
}
# NW-UCLA's default since issue 20 is the official feeder's pipeline: its sampling and view augmentation
# before the min-max, the warm-up set once per epoch, every parameter decayed.
NW_UCLA = {
    **CTRGCN,
    "lr_reference_batch": 16,
    "model.weight_decay": 1e-4,
    "model.milestones": [50],
    "model.augment": None,
    "data.sampling": "sorted_random",
    "data.clip_len": 52,
    "data.batch_size": 16,
    "data.repeat": 5,
    "data.normalize": "view_minmax",
    "model.warmup_interval": "epoch",
    "model.weight_decay_on": "all",
}
del NW_UCLA["data.crop_ratio"]  # unused by sorted_random sampling
# recipes/nw_ucla_official.yaml names the same set (and restores it after another config).
NW_UCLA_OFFICIAL = dict(NW_UCLA)
# skelact's earlier pipeline (recipes/nw_ucla_batch_aug.yaml): uniform sampling, min-max in the loader, then
# the batch augmentation; warm-up per step, no decay on BatchNorm and biases.
NW_UCLA_BATCH_AUG = {
    **NW_UCLA,
    "model.augment": {"rotate": [1.0472, 1.0472, 0.0], "scale": 0.5},
    "data.sampling": "uniform",
    "data.normalize": "minmax",
    "model.warmup_interval": "step",
    "model.weight_decay_on": "weights",
}
# The shortened NW-UCLA recipe of docs/results.md: 12 epochs, warm-up and decay at the same fractions.
NW_UCLA_SHORT = {**NW_UCLA, "model.warmup_epochs": 1, "model.milestones": [9], "trainer.max_epochs": 12}

# The small-data recipe (recipes/small.yaml), composed after the data config: its clip length and repeat win.
SMALL = {
    "lr_reference_batch": 16,
    "model.model_args": {"base_channels": 32},
    "model.optimizer": "sgd",
    "model.lr": 0.05,
    "model.weight_decay": 5e-4,
    "model.label_smoothing": 0.1,
    "model.schedule": "cosine",
    "model.warmup_epochs": 2,
    "model.milestones": None,
    "model.augment": {"rotate": [0.3, 0.6, 0.3], "scale": 0.2},
    "data.sampling": "uniform",
    "data.clip_len": 32,
    "data.repeat": 1,
    "data.batch_size": 16,
    "trainer.max_epochs": 30,
}

# Issue 18's NW-UCLA speed run: the small-data recipe loading in the training process, and the CTR-GCN
# runner-up (the official feeder and schedule shortened to 20 epochs, once per epoch, on 32-frame clips).
NW_UCLA_FAST = {**SMALL, "data.num_workers": 0}
NW_UCLA_FAST_CTRGCN = {
    **NW_UCLA,
    "data.clip_len": 32,
    "data.repeat": 1,
    "data.num_workers": 0,
    "model.warmup_epochs": 5,
    "model.milestones": [15],
    "trainer.max_epochs": 20,
}

RECIPES: dict[str, tuple[tuple[str, ...], dict[str, Any], tuple[str, ...]]] = {
    # name: (recipe files in order, expected values, data configs it is meant for)
    "ctrgcn": (("ctrgcn",), CTRGCN, NTU),
    "pyskl": (("pyskl",), PYSKL, NTU),
    "nw_ucla": (("ctrgcn", "nw_ucla"), NW_UCLA, ("nw_ucla",)),
    "nw_ucla_short": (("ctrgcn", "nw_ucla", "nw_ucla_short"), NW_UCLA_SHORT, ("nw_ucla",)),
    "nw_ucla_official": (("ctrgcn", "nw_ucla", "nw_ucla_official"), NW_UCLA_OFFICIAL, ("nw_ucla",)),
    "nw_ucla_batch_aug": (("ctrgcn", "nw_ucla", "nw_ucla_batch_aug"), NW_UCLA_BATCH_AUG, ("nw_ucla",)),
    "small": (("small",), SMALL, ("nw_ucla", "jhmdb", "synthetic2d", "synthetic3d")),
    "nw_ucla_fast": (("small", "nw_ucla_fast"), NW_UCLA_FAST, ("nw_ucla",)),
    "nw_ucla_fast_ctrgcn": (("ctrgcn", "nw_ucla", "nw_ucla_fast_ctrgcn"), NW_UCLA_FAST_CTRGCN, ("nw_ucla",)),
}


def config_args(data: str, model: str, recipes: tuple[str, ...], stream: str | None) -> list[str]:
    files = [f"data/{data}", f"model/{model}", *(f"recipes/{r}" for r in recipes)]
    files += [f"streams/{stream}"] if stream else []
    return [arg for name in files for arg in ("--config", str(CONFIGS / f"{name}.yaml"))]


def value(config: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        config = config[key]
    return config


def check(config: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, want in expected.items():
        got = value(config, key)
        assert got == pytest.approx(want) if isinstance(want, float) else got == want, (key, got, want)


def data_values(data: str) -> dict[str, Any]:
    """What the data config says about the dataset itself (store and splits), which recipes keep."""
    section = yaml.safe_load((CONFIGS / "data" / f"{data}.yaml").read_text())["data"]
    keys = ("store", "train_split", "val_split", "test_split", "max_persons")
    return {f"data.{k}": section[k] for k in keys}


COMBINATIONS = [(r, d, s) for r, (_, _, datasets) in RECIPES.items() for d in datasets for s in STREAMS]


@pytest.mark.parametrize(("recipe", "data", "stream"), COMBINATIONS)
def test_recipe_data_stream(recipe: str, data: str, stream: str) -> None:
    files, expected, _ = RECIPES[recipe]
    config = composed_config(config_args(data, "stgcn", files, stream))
    check(config, {**expected, **data_values(data), "model.modality": stream, "model.model": "stgcn"})


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("recipe", list(RECIPES))
def test_recipe_with_each_model(recipe: str, model: str) -> None:
    files, expected, datasets = RECIPES[recipe]
    config = composed_config(config_args(datasets[0], model, files, "b"))
    check(config, {**expected, "model.model": model, "model.modality": "b"})


@pytest.mark.parametrize("data", ["kinetics", "jhmdb", "synthetic2d", "synthetic3d"])
def test_other_data_configs_take_every_stream(data: str) -> None:
    for stream in STREAMS:
        config = composed_config(config_args(data, "stgcn", (), stream))
        check(config, {**data_values(data), "model.modality": stream, "lr_reference_batch": None})


def test_plain_configs_do_not_scale_lr(synthetic_store_3d: Path, tmp_path: Path) -> None:
    cli = build_cli(
        [
            *config_args("synthetic3d", "stgcn", (), None),
            *("--data.store", str(synthetic_store_3d), "--trainer.default_root_dir", str(tmp_path)),
            *("--data.batch_size", "8", "--model.lr", "0.05"),
        ],
        run=False,
    )
    assert cli.model.hparams.lr == 0.05


@pytest.mark.parametrize(
    ("recipe", "extra", "total"),
    [
        ("ctrgcn", [], 8),
        ("pyskl", ["--trainer.accumulate_grad_batches", "4"], 32),
        ("nw_ucla", ["--trainer.devices", "2", "--trainer.strategy", "ddp"], 16),
    ],
)
def test_recipe_lr_scales_with_the_total_batch(
    recipe: str, extra: list[str], total: int, synthetic_store_3d: Path, tmp_path: Path
) -> None:
    """lr = recipe lr x (batch x devices x nodes x accumulation) / the recipe's reference batch."""
    files, expected, _ = RECIPES[recipe]
    args = [
        *("--config", str(CONFIGS / "trainer" / "cpu.yaml")),
        *config_args("synthetic3d", "stgcn", files, "jm"),
        *("--data.store", str(synthetic_store_3d), "--trainer.default_root_dir", str(tmp_path)),
        *("--data.batch_size", "8", "--data.num_workers", "0", *extra),
    ]
    cli = build_cli(args, run=False)
    assert cli.model.hparams.lr == pytest.approx(0.1 * total / expected["lr_reference_batch"])
    assert cli.datamodule.spec.clip_len == expected["data.clip_len"]
    assert cli.trainer.max_epochs == expected["trainer.max_epochs"]


def test_lr_reference_batch_must_be_positive(
    synthetic_store_3d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*config_args("synthetic3d", "stgcn", (), None), "--data.store", str(synthetic_store_3d)]
    args += ["--trainer.default_root_dir", str(tmp_path), "--lr_reference_batch", "0"]
    with pytest.raises(Exception, match="lr_reference_batch"):
        build_cli(args, run=False)


@pytest.mark.parametrize("recipe", sorted(p.name for p in (CONFIGS / "recipes").glob("*.yaml")))
def test_recipes_leave_the_data_facts_to_the_data_config(recipe: str) -> None:
    """A recipe composed after the data config would otherwise override them: the README composes
    `recipes/demo.yaml` after the data config, and its `max_persons: 1` dropped a dataset's second person
    (issue 19; cli/config_order.py warns about any other config that does)."""
    data = (yaml.safe_load((CONFIGS / "recipes" / recipe).read_text()) or {}).get("data") or {}
    # `view_minmax` is the official CTR-GCN NW-UCLA transform (recipes/nw_ucla.yaml): a pipeline choice
    # applied by the loader to any store, not a fact of the data; recipes/nw_ucla_batch_aug.yaml undoes it,
    # back to the NW-UCLA data config's own `minmax`.
    facts = {"store", "max_persons", "with_score"}
    undoes_view_minmax = recipe.startswith("nw_ucla") and data.get("normalize") == "minmax"
    if data.get("normalize") != "view_minmax" and not undoes_view_minmax:
        facts.add("normalize")
    assert not set(data) & facts, recipe
