"""Supervised training: a step runs, checkpoints resume exactly, learning happens on separable data."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from skelact.data.datamodule import SkeletonDataModule
from skelact.methods.supervised import SupervisedClassifier


def make(store: Path, **model_kwargs: object) -> tuple[SupervisedClassifier, SkeletonDataModule]:
    data = SkeletonDataModule(str(store), clip_len=12, batch_size=8, normalize="center_align")
    model = SupervisedClassifier.for_data(
        data,
        model_args={"base_channels": 8},
        augment={"rotate": 0.1},
        **model_kwargs,
    )
    return model, data


class StopAfterFirstEpoch(L.Callback):
    """Simulates an interrupted run: the schedule still plans for all epochs."""

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.should_stop = True


def trainer(root: Path, epochs: int, *extra: L.Callback) -> L.Trainer:
    return L.Trainer(
        default_root_dir=root,
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        callbacks=[L.pytorch.callbacks.ModelCheckpoint(dirpath=root, save_last=True), *extra],
    )


def test_resume_continues_exactly(synthetic_store_3d: Path, tmp_path: Path) -> None:
    """Two epochs in one go equal one epoch, an interruption, and a resume from the last checkpoint."""
    L.seed_everything(0)
    straight, data = make(synthetic_store_3d)
    trainer(tmp_path / "a", 2).fit(straight, datamodule=data)

    L.seed_everything(0)
    first, data = make(synthetic_store_3d)
    interrupted = trainer(tmp_path / "b", 2, StopAfterFirstEpoch())
    interrupted.fit(first, datamodule=data)
    assert interrupted.current_epoch == 1
    L.seed_everything(123)  # resuming must not depend on the global seed
    resumed, data = make(synthetic_store_3d)
    trainer(tmp_path / "b", 2).fit(resumed, datamodule=data, ckpt_path=str(tmp_path / "b" / "last.ckpt"))

    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=f"{name} differs after resume")


def test_augmentation_only_in_training(synthetic_store_3d: Path) -> None:
    model, data = make(synthetic_store_3d)
    batch = next(iter(data.val_dataloader()))
    x = batch["keypoint"][:, 0]
    model.eval()
    torch.testing.assert_close(model.augment(x), x)
    model.train()
    assert not torch.allclose(model.augment(x), x)


def test_clip_scores_average_softmax_over_clips(synthetic_store_3d: Path) -> None:
    model, _ = make(synthetic_store_3d)
    model.eval()
    x = torch.randn(3, 4, 2, 12, 25, 3)
    logits, probs = model.net.clip_scores(x)
    per_clip = model(x.flatten(0, 1)).view(3, 4, -1)
    torch.testing.assert_close(probs, per_clip.softmax(-1).mean(1))
    torch.testing.assert_close(logits, per_clip.mean(1))
    torch.testing.assert_close(probs.sum(1), torch.ones(3))


def test_report_renders_the_worst_classified_samples(trained_run: dict[str, Path]) -> None:
    worst = sorted((trained_run["test_dir"] / "worst").glob("*.gif"))
    assert [p.name[:3] for p in worst] == ["01_", "02_", "03_", "04_", "05_"]  # report_worst defaults to 5
    assert all(p.stat().st_size > 0 for p in worst)
