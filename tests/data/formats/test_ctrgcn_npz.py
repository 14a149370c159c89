"""CTR-GCN npz: reading both second-actor conventions, memory mapping, writing, malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.ctrgcn_npz import (
    CtrgcnNpz,
    npz_member,
    read_ctrgcn_npz,
    second_actor_kind,
    write_ctrgcn_npz,
)
from skelact.data.formats.registry import get_format
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import ConfigError, FormatError


def actors(lengths: list[int], two: list[bool], seed: int = 0) -> list[np.ndarray]:
    """(M, T, 25, 3) arrays with no all-zero frame, as CTR-GCN's preprocessing leaves them."""
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(2 if t2 else 1, t, 25, 3)).astype(np.float32) + 0.5
        for t, t2 in zip(lengths, two, strict=True)
    ]


def pack(samples: list[np.ndarray], copy: bool, frames: int = 300) -> np.ndarray:
    """Rows as CTR-GCN's scripts write them: (N, 300, 150), a lone actor's twin zero (NTU-60) or copied."""
    x = np.zeros((len(samples), frames, 2, 25, 3), np.float32)
    for i, kp in enumerate(samples):
        t = kp.shape[1]
        x[i, :t, : kp.shape[0]] = kp.transpose(1, 0, 2, 3)
        if kp.shape[0] == 1 and copy:
            x[i, :t, 1] = x[i, :t, 0]
    return x.reshape(len(samples), frames, 150)


def one_hot(labels: list[int], classes: int) -> np.ndarray:
    y = np.zeros((len(labels), classes))
    y[np.arange(len(labels)), labels] = 1
    return y


@pytest.mark.parametrize("copy, expected", [(False, "zero"), (True, "copy")])
def test_reads_both_conventions(tmp_path: Path, copy: bool, expected: str) -> None:
    train, test = actors([10, 7], [False, True]), actors([4], [False], seed=1)
    path = tmp_path / "NTU60_CS.npz"
    np.savez(
        path,
        x_train=pack(train, copy),
        y_train=one_hot([3, 59], 60),
        x_test=pack(test, copy),
        y_test=one_hot([0], 60),
    )
    samples = read_ctrgcn_npz(path)
    assert [s.sample_id for s in samples] == ["train_000000", "train_000001", "test_000000"]
    assert [s.label for s in samples] == [3, 59, 0]
    assert [s.keypoint.shape for s in samples] == [(1, 10, 25, 3), (2, 7, 25, 3), (1, 4, 25, 3)]
    assert [s.meta["second_actor"] for s in samples] == [expected, "present", expected]
    for sample, original in zip(samples, train + test, strict=True):
        np.testing.assert_array_equal(sample.keypoint, original)
    assert get_format("ctrgcn-npz").reader is read_ctrgcn_npz


def test_uncompressed_members_are_memory_mapped(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez(path, x_train=pack(actors([5], [False]), False), y_train=one_hot([1], 4))
    x = npz_member(path, "x_train")
    assert isinstance(x, np.memmap) and not x.flags.writeable
    assert npz_member(path, "x_test") is None
    compressed = tmp_path / "c.npz"
    np.savez_compressed(compressed, x_train=np.asarray(x), y_train=one_hot([1], 4))
    np.testing.assert_array_equal(read_ctrgcn_npz(compressed)[0].keypoint, read_ctrgcn_npz(path)[0].keypoint)


def test_inner_zero_frames_are_kept_and_end_padding_cut(tmp_path: Path) -> None:
    (kp,) = actors([12], [False])
    kp[:, 5] = 0  # an empty frame inside the sequence
    path = tmp_path / "a.npz"
    np.savez(path, x_train=pack([kp], False), y_train=one_hot([0], 2))
    (sample,) = read_ctrgcn_npz(path)
    assert sample.num_frames == 12
    np.testing.assert_array_equal(sample.keypoint, kp)


def test_second_actor_kind() -> None:
    (two,) = actors([3], [True])
    assert second_actor_kind(two) == "present"
    assert second_actor_kind(np.stack([two[0], np.zeros_like(two[0])])) == "zero"
    assert second_actor_kind(np.stack([two[0], two[0]])) == "copy"


def test_integer_labels_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez(path, x_train=pack(actors([3, 3], [False, False]), False), y_train=np.array([2, 0]))
    npz = CtrgcnNpz(path)
    assert not npz.one_hot and npz.num_classes == 3
    assert [s.label for s in read_ctrgcn_npz(path)] == [2, 0]


def test_malformed_files(tmp_path: Path) -> None:
    x = pack(actors([3, 4], [False, False]), False)
    bad_width = tmp_path / "w.npz"
    np.savez(bad_width, x_train=x[:, :, :149], y_train=one_hot([0, 1], 2))
    with pytest.raises(FormatError, match=r"\(N, T, 150\)") as info:
        CtrgcnNpz(bad_width)
    assert str(bad_width) in str(info.value) and "x_train" in str(info.value)

    two_hot = tmp_path / "y.npz"
    y = one_hot([0, 1], 3)
    y[1, 2] = 1
    np.savez(two_hot, x_train=x, y_train=y)
    npz = CtrgcnNpz(two_hot)
    npz.sample("train", 0)
    with pytest.raises(FormatError, match="not one-hot") as info:
        npz.sample("train", 1)
    assert "y_train row 1" in str(info.value)

    nan = tmp_path / "n.npz"
    x_nan = x.copy()
    x_nan[1, 2, 7] = np.nan
    np.savez(nan, x_train=x_nan, y_train=one_hot([0, 1], 2))
    with pytest.raises(FormatError, match="NaN or Inf in frame 2") as info:
        CtrgcnNpz(nan).sample("train", 1)
    assert "x_train row 1" in str(info.value)

    unpaired = tmp_path / "p.npz"
    np.savez(unpaired, x_train=x, y_train=one_hot([0, 1], 2), x_test=x)
    with pytest.raises(FormatError, match="'y_test' is missing"):
        CtrgcnNpz(unpaired)

    count = tmp_path / "c.npz"
    np.savez(count, x_train=x, y_train=one_hot([0], 2))
    with pytest.raises(FormatError, match="one-hot"):
        CtrgcnNpz(count)

    empty = tmp_path / "e.npz"
    np.savez(empty, other=np.zeros(3))
    with pytest.raises(FormatError, match="not a CTR-GCN npz"):
        CtrgcnNpz(empty)

    truncated = tmp_path / "t.npz"
    good = tmp_path / "g.npz"
    np.savez(good, x_train=x, y_train=one_hot([0, 1], 2))
    truncated.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(FormatError, match=r"t\.npz"):
        CtrgcnNpz(truncated)


def test_all_zero_row_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "z.npz"
    np.savez(path, x_train=np.zeros((1, 300, 150), np.float32), y_train=one_hot([0], 2))
    with pytest.raises(SkipItem, match="every value is zero"):
        CtrgcnNpz(path).sample("train", 0)


# ------------------------------------------------------------------------------------------- writing


def samples_of(arrays: list[np.ndarray], labels: list[int], prefix: str) -> list[SkeletonSample]:
    return [
        SkeletonSample(a, label=lab, sample_id=f"{prefix}{i}")
        for i, (a, lab) in enumerate(zip(arrays, labels, strict=True))
    ]


@pytest.mark.parametrize("convention", ["zero", "copy"])
def test_writer_follows_the_second_actor_convention(tmp_path: Path, convention: str) -> None:
    train = samples_of(actors([6, 9], [False, True]), [1, 2], "a")
    test = samples_of(actors([4], [False], seed=2), [0], "b")
    path = write_ctrgcn_npz(
        tmp_path / "x.npz",
        {"train": train, "test": test},
        num_classes=3,
        second_actor=convention,
        extras=False,
    )
    with np.load(path) as npz:
        assert set(npz.files) == {"x_train", "y_train", "x_test", "y_test"}
        x = npz["x_train"]
        assert x.shape == (2, 300, 150) and x.dtype == np.float32
        np.testing.assert_array_equal(npz["y_train"], one_hot([1, 2], 3))
        frames = x.reshape(2, 300, 2, 25, 3)
        expected_second = frames[0, :6, 0] if convention == "copy" else 0
        np.testing.assert_array_equal(frames[0, :6, 1], expected_second)
        assert not frames[0, 6:].any()
    back = read_ctrgcn_npz(path)
    assert [s.sample_id for s in back] == [
        "train_000000",
        "train_000001",
        "test_000000",
    ]  # no names without extras
    for sample, original in zip(back, train + test, strict=True):
        np.testing.assert_array_equal(sample.keypoint, original.keypoint)
        assert sample.label == original.label


def test_writer_extras_make_the_round_trip_exact(tmp_path: Path) -> None:
    (kp,) = actors([8], [True])
    kp[:, 6:] = 0  # trailing empty frames: without the stored length they would be cut
    copy_like = np.stack([kp[0], kp[0]])  # a genuine second person identical to the first
    train = samples_of([kp, copy_like], [0, 1], "s")
    path = write_ctrgcn_npz(tmp_path / "x.npz", {"train": train}, num_classes=2, class_names=["a", "b"])
    npz = CtrgcnNpz(path)
    assert npz.class_names == ["a", "b"] and npz.has_ids
    back = read_ctrgcn_npz(path)
    assert [s.sample_id for s in back] == ["s0", "s1"]
    for sample, original in zip(back, train, strict=True):
        np.testing.assert_array_equal(sample.keypoint, original.keypoint)


def test_writer_errors(tmp_path: Path) -> None:
    (long,) = actors([301], [False])
    with pytest.raises(FormatError, match="301 frames do not fit") as info:
        write_ctrgcn_npz(tmp_path / "x.npz", {"train": samples_of([long], [0], "L")}, num_classes=1)
    assert "max_frames" in str(info.value) and "'L0'" in str(info.value)
    assert not list(tmp_path.iterdir())  # nothing left behind
    path = write_ctrgcn_npz(
        tmp_path / "x.npz", {"train": samples_of([long], [0], "L")}, num_classes=1, max_frames=320
    )
    assert CtrgcnNpz(path).x["train"].shape == (1, 320, 150)
    three = np.zeros((3, 2, 25, 3), np.float32) + 1
    with pytest.raises(FormatError, match="at most 2 actors"):
        write_ctrgcn_npz(tmp_path / "y.npz", {"train": samples_of([three], [0], "T")}, num_classes=1)
    flat = np.ones((1, 2, 17, 2), np.float32)
    with pytest.raises(FormatError, match="25 joints x 3"):
        write_ctrgcn_npz(tmp_path / "y.npz", {"train": samples_of([flat], [0], "F")}, num_classes=1)
    with pytest.raises(FormatError, match="label 5 outside"):
        write_ctrgcn_npz(
            tmp_path / "y.npz", {"train": samples_of(actors([2], [False]), [5], "F")}, num_classes=2
        )
    with pytest.raises(ConfigError, match="second_actor"):
        write_ctrgcn_npz(tmp_path / "y.npz", {}, num_classes=2, second_actor="loop")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown part"):
        write_ctrgcn_npz(tmp_path / "y.npz", {"val": []}, num_classes=2)
