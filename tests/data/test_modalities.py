"""Sample modalities: every modality of an item shows the keypoint clips' frames; a model's declared inputs
reach the datamodule and the pipeline record."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from skelact.data import modalities
from skelact.data.datamodule import SkeletonDataModule
from skelact.errors import ConfigError
from skelact.methods.supervised import SupervisedClassifier
from skelact.models.backbones import STGCN


def raw_keypoints(store: Any, index: int, frames: np.ndarray) -> np.ndarray:
    """A stand-in modality: the stored keypoints of `frames`, (K, T, M, V, C)."""
    keypoint, _ = store.read(index, frames.reshape(-1))
    return keypoint.reshape(keypoint.shape[0], *frames.shape, *keypoint.shape[2:]).transpose(1, 2, 0, 3, 4)


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(modalities._READERS, "echo", raw_keypoints)
    return "echo"


@pytest.mark.parametrize(("sampling", "test_clips"), [("uniform", 3), ("sorted_random", 1)])
def test_every_modality_shows_the_frames_of_the_keypoint_clips(
    synthetic_store_3d: Path, echo: str, sampling: str, test_clips: int
) -> None:
    data = SkeletonDataModule(
        str(synthetic_store_3d),
        clip_len=12,
        sampling=sampling,  # type: ignore[arg-type]
        num_test_clips=test_clips,
        normalize="none",
        modalities=["frame_index", echo],
    )
    for loader in (data.train_dataloader(), data.test_dataloader()):
        dataset = loader.dataset
        for position in range(3):
            item = dataset[(position, 1)]
            clips, frames = item["keypoint"].numpy(), item["frames"].numpy()
            assert frames.shape == clips.shape[:1] + clips.shape[2:3]
            np.testing.assert_array_equal(item["frame_index"].numpy(), frames)
            persons = item[echo].shape[2]
            np.testing.assert_array_equal(item[echo].numpy(), clips[:, :persons].transpose(0, 2, 1, 3, 4))
            assert len(np.unique(frames)) > 1


def test_crop_resize_reports_the_nearest_stored_frame(synthetic_store_3d: Path, echo: str) -> None:
    data = SkeletonDataModule(
        str(synthetic_store_3d), clip_len=16, sampling="crop_resize", normalize="none", modalities=[echo]
    )
    item = data.train_dataloader().dataset[(0, 0)]
    persons = item[echo].shape[2]
    nearest = item[echo].numpy().transpose(0, 2, 1, 3, 4)
    # interpolated frames lie within half a frame's motion of the nearest stored frame
    clips = item["keypoint"].numpy()[:, :persons]
    step = np.abs(np.diff(nearest, axis=2)).max()
    assert np.abs(clips - nearest).max() <= step / 2 + 1e-6


def test_keypoint_only_items_are_unchanged(synthetic_store_3d: Path) -> None:
    item = SkeletonDataModule(str(synthetic_store_3d)).train_dataloader().dataset[(0, 0)]
    assert set(item) == {"keypoint", "label", "index"}


def test_an_unknown_modality_is_one_clear_error(synthetic_store_3d: Path) -> None:
    with pytest.raises(ConfigError, match="unknown sample modality 'depth'") as err:
        SkeletonDataModule(str(synthetic_store_3d), modalities=["depth"])
    assert "frame_index" in (err.value.hint or "") and "rgb" in (err.value.hint or "")


def test_a_model_s_declared_inputs_reach_the_datamodule_and_the_record(
    synthetic_store_3d: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d))
    plain = SupervisedClassifier.for_data(data, model_args={"base_channels": 8})
    assert plain.hparams_record(None).inputs == ("keypoint",)
    monkeypatch.setattr(STGCN, "inputs", ("keypoint", "frame_index"))
    method = SupervisedClassifier.for_data(data, model_args={"base_channels": 8})
    assert method.net.inputs == ("keypoint", "frame_index")
    assert method.hparams_record(None).inputs == ("keypoint", "frame_index")
    method._trainer = SimpleNamespace(datamodule=data)  # what Lightning attaches before `setup`
    method.setup("fit")
    assert data.modalities == ("keypoint", "frame_index")
    assert "frame_index" in data.train_dataloader().dataset[(0, 0)]
