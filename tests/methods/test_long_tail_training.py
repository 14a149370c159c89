"""BRL on the supervised classifier: the loss and mixup options train end to end with the rebalanced sampler
on a long-tailed split, the test report gains head/medium/tail accuracy, and the default stays untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skelact.data.datamodule import SkeletonDataModule
from skelact.data.prepare.longtail import longtail_counts, longtail_subset
from skelact.data.store import SkeletonStore
from skelact.data.store_splits import add_split
from skelact.errors import ConfigError
from skelact.losses import action_aware_weights
from skelact.methods.supervised import SupervisedClassifier

BRL = {"loss": {"name": "action_aware", "switch_epoch": 2}, "mixup": {"ratio": 0.25}}


def model_for(data: SkeletonDataModule, **kwargs: object) -> SupervisedClassifier:
    return SupervisedClassifier.for_data(
        data,
        model_args={"base_channels": 8},
        **kwargs,
    )


@pytest.fixture
def lt_store(synthetic_store_3d: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store"
    shutil.copytree(synthetic_store_3d, path)
    store = SkeletonStore(path)
    train = store.split("train")
    subset = longtail_subset(train, store.labels[train], longtail_counts(5, 5, store.num_classes))
    add_split(path, "train_lt5", subset)
    return path


def test_brl_trains_and_reports_head_medium_tail(lt_store: Path, tmp_path: Path) -> None:
    L.seed_everything(0)
    data = SkeletonDataModule(
        str(lt_store), train_split="train_lt5", clip_len=12, batch_size=8, sampler="rebalanced", repeat=2
    )
    counts = data.train_class_counts
    assert (
        counts
        == np.bincount(SkeletonStore(lt_store).labels[SkeletonStore(lt_store).split("train_lt5")]).tolist()
    )
    model = model_for(data, **BRL)
    trainer = L.Trainer(
        default_root_dir=tmp_path,
        max_epochs=2,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=data)
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
    model.hparams.report_dir = str(tmp_path / "report")
    trainer.test(model, datamodule=data)
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["train_class_counts"] == counts
    groups = metrics["head_medium_tail"]
    assert groups["by_index"]["num_classes"] == [4, 4, 4]
    assert sum(groups["by_count"]["num_classes"]) == 12
    assert (tmp_path / "report" / "per_class_by_train_count.png").is_file()


def test_options_do_not_change_the_checkpoint_keys(synthetic_store_3d: Path) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=12)
    plain, brl = model_for(data), model_for(data, **BRL)
    assert plain.state_dict().keys() == brl.state_dict().keys()
    assert plain.hparams.loss is None and plain.mixup is None


def test_long_tail_step_is_the_weighted_loss_of_the_logits(synthetic_store_3d: Path) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=12)
    counts = [30, 20, 12, 9, 7, 5, 4, 3, 3, 2, 2, 1]
    model = model_for(
        data, loss={"name": "action_aware", "switch_epoch": 0}, mixup={"ratio": 0.0}, class_counts=counts
    ).train()
    keypoint = torch.randn(6, 2, 12, 25, 3)
    label = torch.tensor([0, 3, 5, 7, 11, 2])
    logits, loss = model._logits_and_loss(keypoint, label, torch.Generator().manual_seed(0))
    assert torch.allclose(logits, model(keypoint))
    weight = torch.tensor(action_aware_weights(counts), dtype=torch.float32)
    assert loss.item() == pytest.approx(F.cross_entropy(logits, label, weight=weight).item(), rel=1e-5)


def test_bad_options_fail_at_construction(synthetic_store_3d: Path) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=12)
    with pytest.raises(ConfigError, match="unknown loss"):
        model_for(data, loss="ldam")
    with pytest.raises(ConfigError, match="label_smoothing"):
        model_for(data, loss="focal", label_smoothing=0.1)
    with pytest.raises(ConfigError, match="unknown sampler"):
        SkeletonDataModule(str(synthetic_store_3d), sampler="balanced")
