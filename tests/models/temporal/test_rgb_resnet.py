"""`RGBFrameEncoder` and its ResNet trunk: shapes, normalisation, local weights, torchvision's layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from skelact.errors import ConfigError
from skelact.models.temporal.resnet_trunk import ResNetTrunk
from skelact.models.temporal.rgb_resnet import RGBFrameEncoder


def _clip(batch: int = 2, steps: int = 3, size: int = 32) -> torch.Tensor:
    return torch.randint(
        0, 256, (batch, steps, 3, size, size), generator=torch.Generator().manual_seed(0)
    ).to(torch.uint8)


@pytest.fixture(scope="module")
def encoder() -> RGBFrameEncoder:
    return RGBFrameEncoder().eval()


def test_frames_keep_their_time_axis(encoder: RGBFrameEncoder) -> None:
    assert encoder.reads == ("rgb",) and encoder.out_dim == 512
    clip = _clip()
    out = encoder({"rgb": clip})
    assert out.shape == (2, 3, 512)
    alone = encoder({"rgb": clip[:1, 2:]})  # frame by frame: one frame alone gives its own feature
    torch.testing.assert_close(out[:1, 2:], alone, rtol=1e-4, atol=1e-5)
    projected = RGBFrameEncoder(out_dim=16)
    assert projected.out_dim == 16 and projected({"rgb": clip}).shape == (2, 3, 16)


def test_uint8_and_unit_float_frames_are_the_same_input(encoder: RGBFrameEncoder) -> None:
    clip = _clip(1, 2)
    torch.testing.assert_close(encoder({"rgb": clip}), encoder({"rgb": clip.float() / 255}))


def test_a_wrong_shape_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"\(B, T, 3, H, W\)"):
        RGBFrameEncoder()({"rgb": torch.zeros(2, 3, 32, 32)})


@pytest.mark.parametrize(("depth", "tensors", "params"), [(18, 120, 11_176_512), (34, 216, 21_284_672)])
def test_trunk_sizes_match_torchvision(depth: int, tensors: int, params: int) -> None:
    """Counts of torchvision's resnet18/34 state dicts and parameters without ``fc`` (measured with
    torchvision 0.28.0)."""
    trunk = ResNetTrunk(depth)
    assert len(trunk.state_dict()) == tensors
    assert sum(p.numel() for p in trunk.parameters()) == params
    assert "layer2.0.downsample.0.weight" in trunk.state_dict()


def test_weights_load_from_a_local_file(encoder: RGBFrameEncoder, tmp_path: Path) -> None:
    source = encoder
    state = dict(source.trunk.state_dict())
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 512), torch.zeros(1000)  # a classifier's head
    path = tmp_path / "resnet18.pt"
    torch.save(state, path)
    loaded = RGBFrameEncoder(weights=str(path)).eval()
    clip = _clip(1, 2)
    torch.testing.assert_close(loaded({"rgb": clip}), source({"rgb": clip}), rtol=0, atol=0)
    other = RGBFrameEncoder(out_dim=8)  # random init differs
    assert not torch.equal(other.trunk.conv1.weight, source.trunk.conv1.weight)


def test_bad_weights_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        RGBFrameEncoder(weights=str(tmp_path / "missing.pt"))
    path = tmp_path / "r18.pt"
    torch.save(ResNetTrunk(18).state_dict(), path)
    with pytest.raises(ConfigError, match="do not fit this ResNet"):
        RGBFrameEncoder(depth=34, weights=str(path))
    with pytest.raises(ConfigError, match="depth"):
        RGBFrameEncoder(depth=50)  # type: ignore[arg-type]


def test_equals_torchvision_when_it_imports() -> None:
    try:
        from torchvision.models import resnet18
    except Exception as err:  # absent, or a CUDA build beside a CPU torch (docs/rgb.md)
        pytest.skip(f"torchvision is not usable here ({type(err).__name__})")
    reference = resnet18(weights=None).eval()
    reference.fc = torch.nn.Identity()
    trunk = ResNetTrunk(18).eval()
    trunk.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(trunk(x), reference(x))
