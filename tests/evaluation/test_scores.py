"""Score files: lossless round trip, atomic writes, and clear errors for bad shapes or foreign files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.errors import FormatError
from skelact.evaluation.scores import ScoreFile


def _scores(n: int = 5, k: int = 3, seed: int = 0) -> ScoreFile:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, k)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return ScoreFile(
        sample_ids=np.array([f"S001C001P001R001A{i:03d}" for i in range(n)]),
        labels=np.array([0, 2, 1, -1, 2][:n]),
        logits=logits,
        probs=probs.astype(np.float32),
        class_names=tuple(f"class {c}" for c in range(k)),
    )


def test_write_read_round_trip(tmp_path: Path):
    original = _scores()
    path = original.write(tmp_path / "nested" / "scores.npz")  # parent folders are created
    assert path == tmp_path / "nested" / "scores.npz" and path.is_file()

    back = ScoreFile.read(path)
    assert back.sample_ids.tolist() == original.sample_ids.tolist()
    np.testing.assert_array_equal(back.labels, [0, 2, 1, -1, 2])
    assert back.labels.dtype == np.int64
    np.testing.assert_array_equal(back.logits, original.logits)
    np.testing.assert_array_equal(back.probs, original.probs)
    assert back.logits.dtype == back.probs.dtype == np.float32
    assert back.class_names == ("class 0", "class 1", "class 2")
    assert all(type(c) is str for c in back.class_names)


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path):
    _scores(seed=0).write(tmp_path / "scores.npz")
    _scores(seed=1).write(tmp_path / "scores.npz")  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.npz"]
    np.testing.assert_array_equal(ScoreFile.read(tmp_path / "scores.npz").logits, _scores(seed=1).logits)


def test_failed_write_removes_its_temporary_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    good = _scores()
    good.write(tmp_path / "scores.npz")

    def crash_half_way(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # a BaseException, like a user's Ctrl-C during the write

    monkeypatch.setattr(np, "savez", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        _scores(seed=1).write(tmp_path / "scores.npz")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.npz"]
    np.testing.assert_array_equal(ScoreFile.read(tmp_path / "scores.npz").logits, good.logits)


@pytest.mark.parametrize(
    ("ids", "labels", "logits", "probs"),
    [
        (4, 5, (5, 3), (5, 3)),  # fewer ids
        (5, 4, (5, 3), (5, 3)),  # fewer labels
        (5, 5, (4, 3), (4, 3)),  # fewer score rows
        (5, 5, (5, 3), (5, 4)),  # logits and probs disagree on the class count
    ],
)
def test_inconsistent_shapes_raise_format_error(ids: int, labels: int, logits: tuple, probs: tuple):
    with pytest.raises(FormatError, match="inconsistent score arrays"):
        ScoreFile(
            sample_ids=np.array([str(i) for i in range(ids)]),
            labels=np.zeros(labels, dtype=np.int64),
            logits=np.zeros(logits, dtype=np.float32),
            probs=np.zeros(probs, dtype=np.float32),
            class_names=("a", "b", "c"),
        )


def test_reading_a_non_score_file_names_the_path(tmp_path: Path):
    text = tmp_path / "notes.npz"
    text.write_text("this is not numpy data\n")
    with pytest.raises(FormatError, match="not a skelact score file") as info:
        ScoreFile.read(text)
    assert info.value.path == str(text)
    assert str(text) in str(info.value)


def test_reading_an_npz_without_score_arrays_names_the_path(tmp_path: Path):
    other = tmp_path / "other.npz"
    np.savez(other, keypoint=np.zeros((2, 3)))
    with pytest.raises(FormatError, match="not a skelact score file") as info:
        ScoreFile.read(other)
    assert info.value.path == str(other)


def test_reading_a_missing_file_raises_format_error(tmp_path: Path):
    with pytest.raises(FormatError) as info:
        ScoreFile.read(tmp_path / "missing.npz")
    assert info.value.path == str(tmp_path / "missing.npz")


def test_reading_a_plain_npy_array_raises_format_error(tmp_path: Path):
    array = tmp_path / "array.npy"
    np.save(array, np.zeros(3))
    with pytest.raises(FormatError):
        ScoreFile.read(array)


def test_reading_an_inconsistent_score_file_names_the_path(tmp_path: Path):
    path = tmp_path / "scores.npz"
    np.savez(
        path,
        sample_ids=np.array(["a", "b"]),
        labels=np.array([0]),
        logits=np.zeros((2, 3)),
        probs=np.zeros((2, 3)),
        class_names=np.array(["x", "y", "z"]),
    )
    with pytest.raises(FormatError) as info:
        ScoreFile.read(path)
    assert info.value.path == str(path)


def test_class_name_count_must_match_score_columns():
    with pytest.raises(FormatError):
        ScoreFile(
            sample_ids=np.array(["a", "b"]),
            labels=np.array([0, 1]),
            logits=np.zeros((2, 3), dtype=np.float32),
            probs=np.zeros((2, 3), dtype=np.float32),
            class_names=("only one",),
        )


def test_meta_round_trips_as_json(tmp_path: Path):
    original = _scores()
    original.meta = {"split": "val", "modality": "j,b", "selection": {"rule": "val_best", "epoch": 3}}
    back = ScoreFile.read(original.write(tmp_path / "scores.npz"))
    assert back.meta == {"split": "val", "modality": "j,b", "selection": {"rule": "val_best", "epoch": 3}}
    with np.load(tmp_path / "scores.npz", allow_pickle=False) as data:  # no pickled object arrays
        assert data["meta"].dtype.kind == "U"


def test_files_without_meta_still_read(tmp_path: Path):
    """Score files written before `meta` existed have no such array: they read with an empty meta."""
    old = _scores()
    path = tmp_path / "old.npz"
    np.savez(
        path,
        version=np.int64(1),
        sample_ids=old.sample_ids,
        labels=old.labels,
        logits=old.logits,
        probs=old.probs,
        class_names=np.asarray(old.class_names),
    )
    back = ScoreFile.read(path)
    assert back.meta == {}
    np.testing.assert_array_equal(back.logits, old.logits)


def test_meta_that_is_not_an_object_is_a_format_error(tmp_path: Path):
    path = _scores().write(tmp_path / "scores.npz")
    with np.load(path) as data:
        arrays = dict(data)
    arrays["meta"] = np.asarray("[1, 2]")
    np.savez(path, **arrays)
    with pytest.raises(FormatError, match="meta") as info:
        ScoreFile.read(path)
    assert info.value.path == str(path)
