"""Weight-decay groups (`model.weight_decay_on`) and the official CTR-GCN switches in a real training loop."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
from torch import nn

from skelact.data.datamodule import SkeletonDataModule
from skelact.errors import ConfigError
from skelact.methods.param_groups import decay_groups
from skelact.methods.supervised import SupervisedClassifier


def test_default_groups_leave_batchnorm_and_biases_undecayed():
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Linear(4, 2))
    decayed, undecayed = decay_groups(net, 1e-4)
    assert decayed["weight_decay"] == 1e-4 and undecayed["weight_decay"] == 0.0
    assert {id(p) for p in decayed["params"]} == {id(net[0].weight), id(net[2].weight)}
    biases_and_norm = [net[0].bias, net[1].weight, net[1].bias, net[2].bias]
    assert {id(p) for p in undecayed["params"]} == {id(p) for p in biases_and_norm}


def test_all_decays_every_parameter_in_one_group():
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    (group,) = decay_groups(net, 1e-4, "all")
    assert group["weight_decay"] == 1e-4
    assert [id(p) for p in group["params"]] == [id(p) for p in net.parameters()]
    with pytest.raises(ConfigError, match="weight_decay_on 'norm'"):
        decay_groups(net, 1e-4, "norm")


class RecordLR(L.Callback):
    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_train_batch_start(self, trainer: L.Trainer, *args: object) -> None:
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def fit(store: Path, root: Path, **options: str) -> tuple[RecordLR, L.Trainer]:
    data = SkeletonDataModule(
        str(store), clip_len=12, batch_size=8, sampling="sorted_random", normalize="view_minmax"
    )
    model = SupervisedClassifier.for_data(
        data, model_args={"base_channels": 8}, schedule="step", warmup_epochs=2, lr=0.1, **options
    )
    record = RecordLR()
    trainer = L.Trainer(
        default_root_dir=root,
        max_epochs=3,
        limit_train_batches=3,
        limit_val_batches=0,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[record],
    )
    trainer.fit(model, datamodule=data)
    return record, trainer


def test_official_switches_set_the_lr_per_epoch_and_decay_everything(
    synthetic_store_3d: Path, tmp_path: Path
):
    record, trainer = fit(synthetic_store_3d, tmp_path, warmup_interval="epoch", weight_decay_on="all")
    assert record.lrs == pytest.approx([0.05] * 3 + [0.1] * 6)
    (group,) = trainer.optimizers[0].param_groups
    assert group["weight_decay"] == pytest.approx(5e-4)
    with pytest.raises(ConfigError, match=r"model\.warmup_interval 'iteration'"):
        SupervisedClassifier(warmup_interval="iteration")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"model\.weight_decay_on 'bias'"):
        SupervisedClassifier(weight_decay_on="bias")  # type: ignore[arg-type]


def test_defaults_ramp_per_step_and_spare_1d_parameters(synthetic_store_3d: Path, tmp_path: Path):
    record, trainer = fit(synthetic_store_3d, tmp_path)
    assert record.lrs == pytest.approx([0.1 * (i + 1) / 6 for i in range(6)] + [0.1] * 3)
    decayed, undecayed = trainer.optimizers[0].param_groups
    assert decayed["weight_decay"] == pytest.approx(5e-4) and undecayed["weight_decay"] == 0.0
    assert undecayed["params"] and all(p.ndim <= 1 for p in undecayed["params"])
