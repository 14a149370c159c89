"""`read_clip_file`: one format registry decides which reader takes a clip file, for prepare and predict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.custom_npy import read_custom_npy
from skelact.data.formats.ntu_presets import apply_preset, get_preset
from skelact.data.formats.ntu_skeleton import NtuRecording, read_ntu_skeleton, write_ntu_skeleton
from skelact.data.formats.registry import FORMATS, ClipRequest, FormatInfo, clip_suffixes, load_formats
from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError, FormatError
from skelact.inference.inputs import read_clip_file
from skelact.skeleton import get_layout


def test_the_registry_names_the_clip_suffixes() -> None:
    assert {s: info.name for s, info in clip_suffixes().items()} == {
        ".skeleton": "ntu-skeleton",
        ".npy": "custom-npy",
        ".csv": "keypoint-table",
        ".json": "keypoint-table",
    }


def test_a_file_is_read_by_the_format_registered_for_its_suffix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[ClipRequest] = []

    def read_fake(path: Path, request: ClipRequest) -> SkeletonSample:
        seen.append(request)
        return SkeletonSample(np.zeros((1, 2, 25, 3), np.float32), sample_id=path.stem)

    load_formats()
    monkeypatch.setitem(FORMATS, "fake", FormatInfo("fake", "test", read_fake, (".fake",), read_fake))
    (tmp_path / "clip.FAKE").write_text("")
    sample = read_clip_file(tmp_path / "clip.FAKE", get_layout("ntu25"), score_channel=True)
    assert sample.sample_id == "clip" and seen[0].score_channel and seen[0].layout.name == "ntu25"
    array = np.ones((4, 25, 3), np.float32)
    np.save(tmp_path / "clip.npy", array)
    direct = read_custom_npy(tmp_path / "clip.npy")
    np.testing.assert_array_equal(
        read_clip_file(tmp_path / "clip.npy", get_layout("ntu25")).keypoint, direct.keypoint
    )


def test_an_unknown_suffix_or_format_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "clip.mat").write_text("")
    with pytest.raises(FormatError, match=r"cannot predict from a \.mat file") as info:
        read_clip_file(tmp_path / "clip.mat", get_layout("ntu25"))
    assert all(suffix in str(info.value.hint) for suffix in (".skeleton", ".npy", ".csv", ".json"))
    with pytest.raises(FormatError, match="'nw-ucla' does not hold one clip per file"):
        read_clip_file(tmp_path / "clip.mat", get_layout("ntu25"), format="nw-ucla")
    with pytest.raises(ConfigError, match="unknown format 'nope'"):
        read_clip_file(tmp_path / "clip.mat", get_layout("ntu25"), format="nope")


def _skeleton_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(12):
        xyz = np.zeros((25, 3))
        xyz[:, 1] = np.linspace(-0.9, 0.8, 25)
        xyz[:, 0] = rng.normal(0, 0.1, 25)
        xyz[:, 2] = 3.0
        frames.append([(7, xyz.round(5))])
    name = "S001C001P001R001A001"
    return write_ntu_skeleton(tmp_path / f"{name}.skeleton", NtuRecording.from_frames(frames, name=name))


def test_ntu_preset_reaches_the_ntu_reader(tmp_path: Path) -> None:
    path = _skeleton_file(tmp_path)
    layout = get_layout("ntu25")
    by_preset = {}
    for preset in ("ctrgcn", "pyskl"):
        expected = apply_preset(read_ntu_skeleton(path), get_preset(preset)).keypoint
        by_preset[preset] = read_clip_file(path, layout, ntu_preset=preset).keypoint
        np.testing.assert_array_equal(by_preset[preset], expected)
    assert not np.allclose(by_preset["ctrgcn"], by_preset["pyskl"])  # the two presets do differ here
    np.testing.assert_array_equal(
        read_clip_file(path, layout).keypoint, read_clip_file(path, layout, format="ntu").keypoint
    )
    with pytest.raises(ConfigError, match="unknown NTU preset 'nope'"):
        read_clip_file(path, layout, ntu_preset="nope")
