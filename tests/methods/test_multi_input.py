"""The multi-input forward: a network reading a sample modality besides keypoints gets it in every step of
the supervised method (clips flattened with the keypoints at test time); Predictor and export refuse it
with one error naming the modality; a batch without it is one clear error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import Tensor, nn

from skelact.data.datamodule import SkeletonDataModule
from skelact.errors import ConfigError, FormatError
from skelact.inference.export import export_model
from skelact.inference.predictor import Predictor
from skelact.methods.supervised import SupervisedClassifier
from skelact.models.temporal import base

SEEN: list[tuple[int, ...]] = []


class FrameEncoder(nn.Module):
    """A stand-in encoder of another modality: the stored frame indices, as one feature per frame."""

    reads = ("frame_index",)
    out_dim = 1

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        frames = inputs["frame_index"]
        SEEN.append(tuple(frames.shape))
        assert frames.shape[0] == inputs["keypoint"].shape[0]  # clips flattened alike
        return frames.float().unsqueeze(-1) / 100


@pytest.fixture
def frame_model(
    synthetic_store_3d: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> SupervisedClassifier:
    monkeypatch.setitem(base._ENCODERS, "frames", FrameEncoder)
    SEEN.clear()
    joint = {"encoder": "gcn", "backbone": "stgcn", "model_args": {"base_channels": 4}}
    data = SkeletonDataModule(
        str(synthetic_store_3d), clip_len=8, batch_size=16, num_test_clips=2, num_workers=0
    )
    model_args = {"modalities": {"joint": joint, "frames": {"encoder": "frames"}}}
    model = SupervisedClassifier.for_data(
        data, model="feature_concat", model_args=model_args, report_worst=0, report_dir=str(tmp_path / "test")
    )
    model.data = data  # type: ignore[attr-defined]
    return model


def test_every_step_feeds_the_modality_the_model_reads(
    frame_model: SupervisedClassifier, quiet_trainer: Callable[[int], L.Trainer], tmp_path: Path
) -> None:
    data = frame_model.data  # type: ignore[attr-defined]
    assert frame_model.net.inputs == ("keypoint", "frame_index")
    trainer = quiet_trainer(1)
    trainer.fit(frame_model, data)
    assert data.modalities == ("keypoint", "frame_index")  # asked for by the method
    assert SEEN and all(len(shape) == 2 and shape[1] == 8 for shape in SEEN)
    SEEN.clear()
    trainer.test(frame_model, data)
    tested = sum(shape[0] for shape in SEEN)
    assert tested == 2 * len(data.store.split(data.test_split))  # N · K clips, K = 2
    checkpoint = tmp_path / "model.ckpt"
    trainer.save_checkpoint(checkpoint)
    with pytest.raises(FormatError, match="'frame_index' besides keypoints"):
        Predictor.from_checkpoint(checkpoint)
    with pytest.raises(ConfigError, match="'frame_index' besides keypoints"):
        export_model(frame_model.net, tmp_path / "model.onnx", "onnx")


def test_a_batch_without_the_modality_is_one_clear_error(frame_model: SupervisedClassifier) -> None:
    batch = {"keypoint": torch.zeros(2, 1, 2, 8, 25, 3), "label": torch.zeros(2, dtype=torch.long)}
    with pytest.raises(FormatError, match="reads sample modality 'frame_index', which the batch lacks"):
        frame_model.validation_step(batch, 0)


def test_mixup_refuses_a_model_with_other_inputs(frame_model: SupervisedClassifier) -> None:
    data = frame_model.data  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="mixup mixes keypoint features only"):
        SupervisedClassifier.for_data(
            data, model="feature_concat", model_args=frame_model.hparams.model_args, mixup={}
        )


def test_a_backbone_s_auxiliary_loss_is_added(synthetic_store_3d: Path) -> None:
    torch.manual_seed(0)
    joint = {"encoder": "gcn", "backbone": "stgcn", "model_args": {"base_channels": 4}}
    streams = {"joint": joint, "bone": {**joint, "stream": "b"}}
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=8, num_workers=0)
    args = {"modalities": streams, "dim": 8, "dropout": 0.0, "aux_weight": 0.5}
    model = SupervisedClassifier.for_data(data, model="mmixer", model_args=args).train()
    x = torch.randn(4, 2, 8, 25, 3)
    label = torch.tensor([0, 1, 2, 3])
    _, loss = model._logits_and_loss(x, label, torch.Generator().manual_seed(0))
    logits = model.net(x)
    auxiliary = model.net.backbone.auxiliary_loss(label)
    assert auxiliary is not None and auxiliary > 0
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits, label) + auxiliary)
