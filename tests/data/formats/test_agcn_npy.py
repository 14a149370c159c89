"""2s-AGCN / MS-G3D arrays: (N, 3, 300, V, 2) joints + (names, labels) pickles, Python 2 included."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.agcn_npy import (
    agcn_sample,
    load_agcn_labels,
    open_agcn_data,
    read_agcn_split,
    sample_name,
)
from skelact.data.formats.registry import get_format
from skelact.data.sample import SkipItem
from skelact.errors import FormatError

NAMES = ["S001C001P001R001A001.skeleton", "S002C003P008R002A058.skeleton", "S003C002P015R001A034.skeleton"]


def py2_label_pickle(names: list[str], labels: list[int]) -> bytes:
    """Protocol 0 as Python 2 writes ``pickle.dump((names, labels), f)``: py2 ``str`` (STRING opcode)."""
    out = b"((lp0\n"
    for name in names:
        out += b"S'" + name.encode() + b"'\np1\na"
    out += b"(lp2\n"
    for label in labels:
        out += b"I" + str(label).encode() + b"\na"
    return out + b"tp3\n."


def agcn_array(seed: int = 0) -> np.ndarray:
    """Three samples: 40 frames one person; 300 frames two persons (loop-padded); 25 frames one person."""
    rng = np.random.default_rng(seed)
    data = np.zeros((3, 3, 300, 25, 2), np.float32)
    data[0, :, :40, :, 0] = rng.normal(size=(3, 40, 25))
    data[1] = rng.normal(size=(3, 300, 25, 2))
    data[2, :, :25, :, 0] = rng.normal(size=(3, 25, 25))
    return data


def write_split(
    folder: Path, prefix: str, data: np.ndarray, names: list[str], labels: list[int], py2: bool
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{prefix}_data_joint.npy", data)
    label_file = folder / f"{prefix}_label.pkl"
    label_file.write_bytes(py2_label_pickle(names, labels) if py2 else pickle.dumps((names, labels)))
    return folder / f"{prefix}_data_joint.npy"


@pytest.mark.parametrize("py2", [False, True])
def test_reads_a_split(tmp_path: Path, py2: bool) -> None:
    data = agcn_array()
    path = write_split(tmp_path, "val", data, NAMES, [0, 57, 33], py2)
    samples = read_agcn_split(path)
    assert [s.sample_id for s in samples] == [sample_name(n) for n in NAMES]
    assert [s.keypoint.shape for s in samples] == [(1, 40, 25, 3), (2, 300, 25, 3), (1, 25, 25, 3)]
    np.testing.assert_array_equal(samples[0].keypoint[0], data[0, :, :40, :, 0].transpose(1, 2, 0))
    np.testing.assert_array_equal(samples[1].keypoint, data[1].transpose(3, 1, 2, 0))
    assert [s.label for s in samples] == [0, 57, 33]
    assert samples[1].meta["subject"] == 8 and samples[1].meta["view"] == 3
    assert get_format("agcn-npy").reader is read_agcn_split


def test_data_is_memory_mapped(tmp_path: Path) -> None:
    path = write_split(tmp_path, "train", agcn_array(), NAMES, [0, 1, 2], False)
    assert isinstance(open_agcn_data(path), np.memmap)


def test_psumnet_wrapped_labels(tmp_path: Path) -> None:
    path = tmp_path / "l.pkl"
    path.write_bytes(pickle.dumps([(NAMES, np.array([1, 2, 3]))]))
    assert load_agcn_labels(path) == (NAMES, [1, 2, 3])


def test_kinetics_score_channel(tmp_path: Path) -> None:
    data = np.zeros((1, 3, 300, 18, 2), np.float32)
    data[0, :2, :10] = 0.5
    data[0, 2, :10] = 0.9
    np.save(tmp_path / "k.npy", data)
    (sample,) = [
        agcn_sample(open_agcn_data(tmp_path / "k.npy"), 0, name="abc.json", label=3, score_channel=True)
    ]
    assert sample.sample_id == "abc" and sample.keypoint.shape == (2, 10, 18, 2)
    assert sample.score is not None and float(sample.score.max()) == pytest.approx(0.9)


def test_malformed(tmp_path: Path) -> None:
    data = agcn_array()
    path = write_split(tmp_path, "train", data, NAMES[:2], [0, 1], False)
    with pytest.raises(FormatError, match="3 rows but 2 labels"):
        read_agcn_split(path)
    np.save(tmp_path / "flat.npy", data[:, 0])
    with pytest.raises(FormatError, match=r"\(N, C, T, V, M\)"):
        open_agcn_data(tmp_path / "flat.npy")
    data[2, 1, 3, 4, 0] = np.nan
    np.save(tmp_path / "nan.npy", data)
    with pytest.raises(FormatError, match="NaN or Inf at person 0, frame 3, joint 4") as info:
        agcn_sample(
            open_agcn_data(tmp_path / "nan.npy"), 2, name=NAMES[2], label=0, source=tmp_path / "nan.npy"
        )
    assert "row 2" in str(info.value) and "nan.npy" in str(info.value)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"cos\nsystem\n(S'echo x'\ntR.")
    with pytest.raises(FormatError, match=r"os\.system"):
        load_agcn_labels(evil)
    odd = tmp_path / "odd.pkl"
    odd.write_bytes(pickle.dumps((NAMES, [0, -1, 2])))
    with pytest.raises(FormatError, match="entry 1"):
        load_agcn_labels(odd)
    (tmp_path / "cut.npy").write_bytes((tmp_path / "flat.npy").read_bytes()[:60])
    with pytest.raises(FormatError, match=r"cut\.npy"):
        open_agcn_data(tmp_path / "cut.npy")


def test_all_zero_sample_is_skipped(tmp_path: Path) -> None:
    np.save(tmp_path / "z.npy", np.zeros((1, 3, 300, 25, 2), np.float32))
    with pytest.raises(SkipItem, match="every value is zero"):
        agcn_sample(open_agcn_data(tmp_path / "z.npy"), 0, name="x", label=0)
