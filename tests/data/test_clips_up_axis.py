"""`up_axis` in the clip pipeline: applied before normalisation, recorded in checkpoints, refused for 2D."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.clips import ClipSpec, make_clips
from skelact.data.datamodule import SkeletonDataModule
from skelact.errors import ConfigError
from skelact.skeleton import get_layout


def _clip(keypoint: np.ndarray, spec: ClipSpec) -> np.ndarray:
    def read(frames: np.ndarray) -> tuple[np.ndarray, None]:
        return keypoint[:, frames], None

    layout = get_layout("ntu25")
    return make_clips(read, keypoint.shape[1], spec, layout, test_mode=True, rng=np.random.default_rng(0))


def test_z_up_data_is_turned_before_normalisation() -> None:
    keypoint = np.random.default_rng(1).normal(size=(1, 8, 25, 3)).astype(np.float32)
    plain = _clip(keypoint, ClipSpec(clip_len=8, max_persons=1))
    turned = _clip(keypoint, ClipSpec(clip_len=8, max_persons=1, up_axis="z"))
    np.testing.assert_allclose(turned[..., 1], plain[..., 2])
    np.testing.assert_allclose(turned[..., 2], -plain[..., 1])
    # With min-max scaling the turn happens first: the scaled y axis is the stored z axis.
    minmax = _clip(keypoint, ClipSpec(clip_len=8, max_persons=1, normalize="minmax", up_axis="z"))
    stored_z = _clip(keypoint, ClipSpec(clip_len=8, max_persons=1, normalize="minmax"))[..., 2]
    np.testing.assert_allclose(minmax[..., 1], stored_z, atol=1e-6)


def test_the_clip_spec_records_up_axis_and_reads_old_records() -> None:
    spec = ClipSpec(up_axis="-y")
    assert ClipSpec.from_dict(spec.to_dict()) == spec
    old = spec.to_dict()
    del old["up_axis"]  # a checkpoint written before the option existed
    assert ClipSpec.from_dict(old).up_axis is None
    with pytest.raises(ConfigError, match="unknown up_axis 'down'"):
        ClipSpec(up_axis="down")


def test_the_datamodule_applies_it_and_refuses_it_for_2d(
    synthetic_store_3d: Path, synthetic_store_2d: Path
) -> None:
    plain = SkeletonDataModule(str(synthetic_store_3d), clip_len=8, batch_size=4)
    turned = SkeletonDataModule(str(synthetic_store_3d), clip_len=8, batch_size=4, up_axis="x")
    assert turned.pipeline_facts()["clip"].up_axis == "x"
    a = next(iter(plain.val_dataloader()))["keypoint"].numpy()
    b = next(iter(turned.val_dataloader()))["keypoint"].numpy()
    np.testing.assert_allclose(b[..., 1], a[..., 0])
    with pytest.raises(ConfigError, match=r"data\.up_axis applies to 3D keypoints"):
        SkeletonDataModule(str(synthetic_store_2d), up_axis="-y")
