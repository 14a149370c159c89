"""SkeletonMAE pre-training and STRL fine-tuning as LightningModules: the masked step, the target modes and
the collapse monitor, the checkpoint's encoder read by the probes and loaded into STRL bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from skelact.data.clips import ClipSpec
from skelact.errors import ConfigError
from skelact.methods.pretrained import load_pretrained_encoder
from skelact.methods.probe import LinearProbe
from skelact.methods.skeletonmae import SkeletonMAE
from skelact.methods.strl import STRLFineTune

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*self.log.*:UserWarning", "ignore:.*does not have many workers", "ignore:.*log_every_n_steps"
)

# coco17 x, y + score, two persons, 3 classes
DATA: dict[str, Any] = {
    "layout": "coco17",
    "num_classes": 3,
    "num_channels": 3,
    "num_coords": 2,
    "num_persons": 2,
}
SMALL = {"embed_dim": 16, "gin_hidden": 16}


def _keypoint(n: int = 4, t: int = 6, seed: int = 0) -> torch.Tensor:
    x = torch.rand(n, 2, t, 17, 3, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    x[:, 1, 3:] = 0  # the second person leaves after 3 frames
    return x


class Clips(L.LightningDataModule):
    """8 labelled coco17 sequences (N, clips=1, M=2, T=6, V=17, C=3), batches of 4."""

    def __init__(self) -> None:
        super().__init__()
        self.keypoint = _keypoint(8).unsqueeze(1)

    def _loader(self) -> DataLoader:
        items = [{"keypoint": k, "label": i % 3, "index": i} for i, k in enumerate(self.keypoint)]
        return DataLoader(items, batch_size=4, shuffle=False)

    def train_dataloader(self) -> DataLoader:
        return self._loader()

    def test_dataloader(self) -> DataLoader:
        return self._loader()

    def pipeline_facts(self) -> dict[str, Any]:
        return {"clip": ClipSpec(clip_len=6, max_persons=2), "store": "memory"}


def test_a_step_reconstructs_the_masked_joints_of_present_graphs_only() -> None:
    torch.manual_seed(0)
    model = SkeletonMAE(**DATA, model_args=SMALL)
    out = model.reconstruct(_keypoint())
    assert out["reconstruction"].shape == out["target"].shape == (4, 2, 6, 17, 16)
    masked = out["masked"]
    assert masked[0, 0, 0].nonzero().flatten().tolist() == [8, 10, 14, 16]
    assert masked[:, 0].all(dim=1).sum(-1).eq(4).all()  # the same joints in every frame
    assert masked[:, 1, :3].all(dim=1).sum(-1).eq(4).all()  # and person
    assert out["graphs"][:, 1, 3:].any().item() is False  # the absent person's frames are not graphs
    assert not masked[:, 1, 3:].any()  # nor are their joints reconstruction targets
    loss = model.loss(out)
    loss.backward()
    assert model.mask_token.grad is not None and model.mask_token.grad.abs().sum() > 0
    assert model.backbone.embed.weight.grad is None  # target "embedding": the embedding is frozen


def test_targets_and_rce_modes() -> None:
    torch.manual_seed(0)
    coords = SkeletonMAE(**DATA, model_args=SMALL, target="coordinates")
    out = coords.reconstruct(_keypoint())
    assert out["reconstruction"].shape[-1] == 2
    coords.loss(out).backward()
    assert coords.backbone.embed.weight.grad is not None  # the embedding learns in this mode
    literal = SkeletonMAE(**DATA, model_args=SMALL, target="literal")
    literal.loss(literal.reconstruct(_keypoint())).backward()
    assert literal.backbone.embed.weight.grad is not None  # the paper's target moves with the embedding
    torch.manual_seed(1)
    mean = SkeletonMAE(**DATA, model_args=SMALL).eval()
    torch.manual_seed(1)
    paper = SkeletonMAE(**DATA, model_args=SMALL, rce_mode="literal").eval()
    x = _keypoint()
    with torch.no_grad():
        torch.testing.assert_close(paper.loss(paper.reconstruct(x)) * 4, mean.loss(mean.reconstruct(x)))
    with pytest.raises(ConfigError, match="unknown target 'pixels'"):
        SkeletonMAE(**DATA, target="pixels")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown rce_mode"):
        SkeletonMAE(**DATA, rce_mode="sum")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="pre-training keeps the last epoch"):
        SkeletonMAE(**DATA, select_on="val")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown schedule 'linear'"):
        SkeletonMAE(**DATA, schedule="linear")  # type: ignore[arg-type]


def test_pixel_noise_only_in_training_and_only_on_present_joints() -> None:
    model = SkeletonMAE(**DATA, model_args=SMALL)
    assert model.noise_std == 0.01  # 2D default
    assert SkeletonMAE(**{**DATA, "num_channels": 3, "num_coords": 3}, model_args=SMALL).noise_std == 0.0


def test_pretraining_lowers_the_loss_then_strl_and_the_probes_read_the_encoder(
    tmp_path: Path, quiet_trainer: Callable[[int], L.Trainer]
) -> None:
    torch.manual_seed(0)
    data = Clips()
    model = SkeletonMAE(**DATA, model_args=SMALL, lr=1e-2, noise_std=0.0)
    x = data.keypoint[:, 0]
    model.eval()
    with torch.no_grad():
        before = float(model.loss(model.reconstruct(x)))
    model.train()
    trainer = quiet_trainer(15)
    trainer.fit(model, datamodule=data)
    model.eval()
    with torch.no_grad():
        after = float(model.loss(model.reconstruct(x)))
    assert after < 0.8 * before
    assert trainer.logged_metrics["train/embedding_spread"] > 0
    trainer.save_checkpoint(tmp_path / "mae.ckpt")

    net, record = load_pretrained_encoder(tmp_path / "mae.ckpt")
    assert record.model == "skeletonmae" and record.extra["pretraining"]["method"] == "skeletonmae"
    encoder = model.encoder.backbone.state_dict()
    for key, value in net.backbone.state_dict().items():
        if not key.startswith("head."):
            assert torch.equal(value, encoder[key]), key
    assert net.eval().pooled_features(x).shape == (8, 16)

    strl = STRLFineTune(
        pretrained=str(tmp_path / "mae.ckpt"), **DATA, model_args={"num_layers": 2, "max_frames": 8}
    )
    assert strl.hparams.model_args["embed_dim"] == 16  # the encoder's options come from the checkpoint
    assert torch.equal(strl.strl.embed.weight, encoder["embed.weight"])
    for layer in strl.strl.layers:
        for key, value in layer.encoder.state_dict().items():
            for person in range(2):
                assert torch.equal(value[person], encoder[f"encoder.{key}"][0]), key
    random = STRLFineTune(
        pretrained=str(tmp_path / "mae.ckpt"), encoder_init="random", **DATA,
        model_args={"num_layers": 2, "max_frames": 8},
    )  # fmt: skip
    assert not torch.equal(random.strl.embed.weight, encoder["embed.weight"])
    assert random.strl.layers[0].encoder.layers[0].fc1.weight.shape == (2, 16, 16)
    with pytest.raises(ConfigError, match=r"model_args\.embed_dim = 32 but .* was pre-trained with 16"):
        STRLFineTune(pretrained=str(tmp_path / "mae.ckpt"), **DATA, model_args={"embed_dim": 32})

    quiet_trainer(1).fit(strl, datamodule=data)  # a fine-tuning epoch runs end to end
    probe = LinearProbe(pretrained=str(tmp_path / "mae.ckpt"), **DATA, eval_every=0)
    assert probe.net.backbone.num_features == 16 and probe.hparams.model == "skeletonmae"


def test_a_missing_joint_is_not_a_reconstruction_target() -> None:
    torch.manual_seed(0)
    model = SkeletonMAE(**DATA, model_args=SMALL)
    x = _keypoint()
    x[0, 0, 2, 10] = 0  # the right wrist is missing in one frame (e.g. below the score threshold)
    masked = model.reconstruct(x)["masked"]
    assert not masked[0, 0, 2, 10] and masked[0, 0, 2, 8] and masked[0, 0, 1, 10]
