"""The custom-npy reader: one .npy clip (T,V,C) or (M,T,V,C); every malformed array is one FormatError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.custom_npy import read_custom_npy
from skelact.data.formats.registry import get_format
from skelact.errors import FormatError


def _save(tmp_path: Path, array: object, name: str = "clip.npy") -> Path:
    path = tmp_path / name
    np.save(path, array)
    return path


def test_single_person_array_gains_a_person_axis_and_keeps_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    array = rng.normal(size=(7, 5, 3))  # float64 on disk
    sample = read_custom_npy(_save(tmp_path, array), num_joints=5, label=2, meta={"subject": 4})
    assert sample.keypoint.shape == (1, 7, 5, 3) and sample.keypoint.dtype == np.float32
    np.testing.assert_allclose(sample.keypoint[0], array, rtol=1e-6)
    assert (sample.label, sample.sample_id, sample.score) == (2, "clip", None)
    assert sample.meta == {"subject": 4, "source": str(tmp_path / "clip.npy")}


def test_multi_person_integer_array_and_explicit_id(tmp_path: Path) -> None:
    array = np.arange(2 * 3 * 4 * 2, dtype=np.int16).reshape(2, 3, 4, 2)
    sample = read_custom_npy(_save(tmp_path, array), sample_id="a/b", meta={"source": "b.npy"})
    assert sample.keypoint.shape == (2, 3, 4, 2)
    assert sample.keypoint[1, 2, 3, 1] == array[1, 2, 3, 1]
    assert sample.sample_id == "a/b" and sample.meta["source"] == "b.npy"


def test_score_channel_becomes_the_score(tmp_path: Path) -> None:
    array = np.zeros((2, 4, 3, 3), dtype=np.float32)
    array[..., 2] = 0.5
    array[0, 1, 2] = (10.0, 20.0, 0.9)
    sample = read_custom_npy(_save(tmp_path, array), score_channel=True)
    assert sample.keypoint.shape == (2, 4, 3, 2) and sample.score is not None
    assert sample.score.shape == (2, 4, 3)
    assert sample.keypoint[0, 1, 2].tolist() == [10.0, 20.0]
    assert sample.score[0, 1, 2] == pytest.approx(0.9)


def _nan_clip() -> np.ndarray:
    array = np.zeros((4, 5, 3))
    array[2, 3, 1] = np.nan
    return array


@pytest.mark.parametrize(
    ("array", "kwargs", "message"),
    [
        (np.zeros((5, 3)), {}, r"expected shape \(T, V, C\) or \(M, T, V, C\), got \(5, 3\) \(2 axes\)"),
        (np.zeros((1, 1, 4, 5, 3)), {}, r"got \(1, 1, 4, 5, 3\) \(5 axes\)"),
        (np.zeros((4, 6, 3)), {"num_joints": 5, "layout_name": "hand5"}, r"6 joints .* layout 'hand5' has 5"),
        (np.zeros((4, 5, 4)), {}, r"last axis has 4 values per joint, expected 2 \(x, y\) or 3"),
        (np.zeros((4, 5, 1)), {}, r"last axis has 1 values per joint"),
        (np.zeros((4, 5, 2)), {"score_channel": True}, r"expected 3 \(x, y, score\) or 4"),
        (_nan_clip(), {}, r"NaN or Inf at person 0, frame 2, joint 3, channel 1"),
        (np.full((4, 5, 3), np.inf), {}, r"NaN or Inf at person 0, frame 0"),
        (np.zeros((0, 5, 3)), {}, r"empty sequence: shape \(1, 0, 5, 3\) has no frames"),
        (np.zeros((0, 4, 5, 3)), {}, r"has no persons"),
        (np.array([["a", "b"]]), {}, r"expected numbers, got dtype <U1"),
        (np.zeros((4, 5, 3), dtype=bool), {}, r"expected numbers, got dtype bool"),
    ],
)
def test_malformed_arrays_name_the_file(
    tmp_path: Path, array: np.ndarray, kwargs: dict, message: str
) -> None:
    path = _save(tmp_path, array)
    with pytest.raises(FormatError, match=message) as info:
        read_custom_npy(path, listed_at="labels.csv line 9", **kwargs)
    assert info.value.path == str(path)
    assert "(listed in labels.csv line 9)" in str(info.value)


def test_unreadable_files_are_format_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="file does not exist"):
        read_custom_npy(tmp_path / "missing.npy")
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not an array at all")
    with pytest.raises(FormatError, match=r"not a readable \.npy array"):
        read_custom_npy(garbage)
    truncated = tmp_path / "truncated.npy"
    np.save(truncated, np.zeros((50, 5, 3)))
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(FormatError, match=r"not a readable \.npy array"):
        read_custom_npy(truncated)
    # Object arrays would need unpickling: refused, never executed.
    with pytest.raises(FormatError, match=r"not a readable \.npy array.*allow_pickle"):
        read_custom_npy(_save(tmp_path, np.array([{"a": 1}], dtype=object), "object.npy"))
    archive = tmp_path / "clip.npz"
    np.savez(archive, x=np.zeros((4, 5, 3)))
    with pytest.raises(FormatError, match=r"got an \.npz archive"):
        read_custom_npy(archive)


def test_registered_under_its_format_name() -> None:
    assert get_format("custom-npy").reader is read_custom_npy


def test_a_score_channel_outside_0_1_is_refused(tmp_path: Path) -> None:
    array = np.zeros((4, 3, 3), dtype=np.float32)
    array[..., 2] = 1.0
    array[2, 1, 2] = 5.0
    with pytest.raises(FormatError, match=r"score 5 at person 0, frame 2, joint 1 is outside \[0, 1\]"):
        read_custom_npy(_save(tmp_path, array), score_channel=True)
    array[2, 1, 2] = 0.0
    assert read_custom_npy(_save(tmp_path, array), score_channel=True).score is not None
