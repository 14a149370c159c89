"""MoCo and HaLP as LightningModules: the key encoder's EMA before the keys, the queue after each step, exact
resume (queue, pointer, prototypes, warm-up counter), the MoCo → HaLP switch and the pre-trained trunk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from skelact.data.clips import ClipSpec
from skelact.errors import ConfigError, FormatError
from skelact.methods.halp import HaLP
from skelact.methods.moco import MoCo
from skelact.methods.pretrained import load_pretrained_encoder

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*self.log.*:UserWarning", "ignore:.*does not have many workers"
)

TINY: dict[str, Any] = {
    "model_args": {"base_channels": 4},
    "num_persons": 1,
    "num_classes": 3,
    "dim": 16,
    "queue_size": 32,
}
HALP_TINY: dict[str, Any] = {
    **TINY,
    "num_prototypes": 4,
    "prototype_window": 16,
    "warmup_samples": 12,
    "refresh_every": 2,
    "num_positives": 5,
}


class TwoViews(L.LightningDataModule):
    """12 random two-view samples (N, 2, M=1, T=8, V=25, C=3) in a fixed order, batches of 4."""

    def __init__(self) -> None:
        super().__init__()
        self.keypoint = torch.randn(12, 2, 1, 8, 25, 3, generator=torch.Generator().manual_seed(0))

    def train_dataloader(self) -> DataLoader:
        items = [{"keypoint": k, "label": 0, "index": i} for i, k in enumerate(self.keypoint)]
        return DataLoader(items, batch_size=4, shuffle=False)

    def pipeline_facts(self) -> dict[str, Any]:
        return {"clip": ClipSpec(clip_len=8, max_persons=1), "store": "memory"}


def test_key_encoder_moves_by_ema_before_the_keys_and_the_keys_are_enqueued() -> None:
    torch.manual_seed(0)
    model = MoCo(**TINY, key_momentum=0.9, augment=False)  # the keys below are computed from the raw view
    with torch.no_grad():  # make the two encoders differ, as after some training
        for p in model.encoder_q.parameters():
            p.add_(0.1)
    q0 = [p.detach().clone() for p in model.encoder_q.parameters()]
    k0 = [p.detach().clone() for p in model.encoder_k.parameters()]
    batch = {"keypoint": torch.randn(4, 2, 1, 8, 25, 3)}
    model.training_step(batch, 0)
    for q, k_before, k_after in zip(q0, k0, model.encoder_k.parameters(), strict=True):
        torch.testing.assert_close(k_after, 0.9 * k_before + 0.1 * q)
    with torch.no_grad():  # the keys of the step came from the updated key encoder
        keys = F.normalize(model.encoder_k(batch["keypoint"][:, 1]), dim=1)
    torch.testing.assert_close(model.queue.recent(4), keys)
    assert int(model.queue.pointer) == 4 and int(model.queue.seen) == 4
    assert not any(p.requires_grad for p in model.encoder_k.parameters())


def test_one_view_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="two views"):
        MoCo(**TINY).training_step({"keypoint": torch.randn(4, 1, 1, 8, 25, 3)}, 0)


def test_select_on_and_schedule_are_checked_when_built() -> None:
    with pytest.raises(ConfigError, match="pre-training keeps the last epoch"):
        MoCo(**TINY, select_on="val")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown schedule 'linear'"):
        MoCo(**TINY, schedule="linear")  # type: ignore[arg-type]


def test_halp_starts_after_the_warm_up_and_its_loss_joins_infonce() -> None:
    torch.manual_seed(0)
    model = HaLP(**HALP_TINY, mu=2.0)
    active = []
    for step in range(5):
        model.training_step({"keypoint": torch.randn(4, 2, 1, 8, 25, 3)}, step)
        active.append(bool(model.bank.ready))
    # 12 keys seen after the 3rd step: the prototypes are computed then, used from the 4th step on
    assert active == [False, False, True, True, True]
    assert int(model.queue.seen) == 20


def _state(model: L.LightningModule) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_resume_restores_queue_pointer_prototypes_and_counter_exactly(
    tmp_path: Path, quiet_trainer: Callable[[int], L.Trainer]
) -> None:
    data = TwoViews()
    L.seed_everything(0)
    straight = HaLP(**HALP_TINY)
    quiet_trainer(4).fit(straight, datamodule=data)
    assert bool(straight.bank.ready)  # HaLP was active in the run

    L.seed_everything(0)
    first = HaLP(**HALP_TINY)
    trainer = quiet_trainer(2)
    trainer.fit(first, datamodule=data)
    trainer.save_checkpoint(tmp_path / "half.ckpt")
    saved = torch.load(tmp_path / "half.ckpt", weights_only=True)["state_dict"]
    for name in ("queue.keys", "queue.pointer", "queue.seen", "bank.prototypes", "bank.ready"):
        torch.testing.assert_close(saved[name], first.state_dict()[name], rtol=0, atol=0)

    L.seed_everything(123)  # a different global RNG state: the run must not depend on it
    resumed = HaLP(**HALP_TINY, seed=0)
    quiet_trainer(4).fit(resumed, datamodule=data, ckpt_path=tmp_path / "half.ckpt")
    expected, got = _state(straight), _state(resumed)
    assert expected.keys() == got.keys()
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, rtol=0, atol=0, msg=name)


def test_moco_checkpoint_then_halp_with_the_counter_kept_or_restarted(
    tmp_path: Path, quiet_trainer: Callable[[int], L.Trainer]
) -> None:
    data = TwoViews()
    L.seed_everything(0)
    moco = MoCo(**TINY)
    trainer = quiet_trainer(1)
    trainer.fit(moco, datamodule=data)
    trainer.save_checkpoint(tmp_path / "moco.ckpt")
    assert "bank.prototypes" not in torch.load(tmp_path / "moco.ckpt", weights_only=True)["state_dict"]

    class Probe(L.Callback):
        def on_train_start(self, trainer: L.Trainer, module: Any) -> None:
            self.seen, self.ready = int(module.queue.seen), bool(module.bank.ready)
            self.queue = module.queue.keys.clone()

    for mode, seen in (("keep", 12), ("restart", 0)):
        probe = Probe()
        halp = HaLP(**HALP_TINY, warmup_on_resume=mode)
        trainer = quiet_trainer(2)
        trainer.callbacks.append(probe)
        trainer.fit(halp, datamodule=data, ckpt_path=tmp_path / "moco.ckpt")
        assert probe.seen == seen and not probe.ready
        torch.testing.assert_close(probe.queue, moco.queue.keys, rtol=0, atol=0)  # the MoCo queue goes on
        # keep: 12 keys were seen, so the prototypes come at the first HaLP step; restart waits 3 steps
        assert bool(halp.bank.ready)


def test_pretrained_encoder_trunk_from_a_checkpoint(
    tmp_path: Path, quiet_trainer: Callable[[int], L.Trainer]
) -> None:
    data = TwoViews()
    L.seed_everything(0)
    model = HaLP(**HALP_TINY)
    trainer = quiet_trainer(1)
    trainer.fit(model, datamodule=data)
    trainer.save_checkpoint(tmp_path / "halp.ckpt")
    net, record = load_pretrained_encoder(tmp_path / "halp.ckpt")
    assert record.method == "halp" and record.model == "stgcn" and record.clip.clip_len == 8
    assert record.extra["pretraining"]["num_features"] == model.encoder_q.num_features
    x = data.keypoint[:4, 0]
    model.eval(), net.eval()
    with torch.no_grad():
        torch.testing.assert_close(net.backbone.forward_features(net.embed(x)), model.encoder_q.trunk(x))
        assert net(x).shape == (4, 3)  # a fresh head for the record's classes

    checkpoint = torch.load(tmp_path / "halp.ckpt", weights_only=True)
    del checkpoint["skelact"]["pretraining"]
    torch.save(checkpoint, tmp_path / "plain.ckpt")
    with pytest.raises(FormatError, match="not a contrastive pre-training checkpoint"):
        load_pretrained_encoder(tmp_path / "plain.ckpt")


def test_both_views_are_augmented_on_the_device_and_bad_options_are_one_error() -> None:
    torch.manual_seed(0)
    model = MoCo(**TINY)  # augment: true by default (SSLAugment, one op per view)
    batch = {"keypoint": torch.randn(4, 2, 1, 8, 25, 3)}
    model.training_step(batch, 0)
    with torch.no_grad():
        raw_keys = F.normalize(model.encoder_k(batch["keypoint"][:, 1]), dim=1)
    assert not torch.allclose(model.queue.recent(4), raw_keys, atol=1e-3)
    query, key = model._views(batch["keypoint"], torch.Generator().manual_seed(1))
    assert query.shape == key.shape == (4, 1, 8, 25, 3) and not torch.equal(key, batch["keypoint"][:, 1])
    with pytest.raises(ConfigError, match="augment_options"):
        MoCo(**TINY, augment_options={"no_such_option": 1})


def test_the_bigru_encoder_gets_the_papers_head_shape() -> None:
    model = MoCo(**{**TINY, "model": "isc_bigru", "model_args": {"hidden_size": 8, "num_layers": 1}})
    assert model.encoder_q.num_features == 16  # 2 x hidden: 2048 at the paper's hidden size 1024
    linears = [m for m in model.encoder_q.projector.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(16, 16), (16, 16)]  # F-F-dim (dim 16 here)
    assert isinstance(model.encoder_q.backbone.head, torch.nn.Identity)
    loss = model.training_step({"keypoint": torch.randn(4, 2, 1, 8, 25, 3)}, 0)
    loss.backward()
    assert all(p.grad is not None for p in model.encoder_q.parameters())  # no parameter left without one
