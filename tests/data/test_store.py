from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore, open_store, write_store
from skelact.errors import ConfigError, FormatError, LayoutError, SkelactError

CLASSES = ("wave", "kick", "sit")


def make_samples(
    n: int = 6, *, channels: int = 3, score: bool = False, seed: int = 0
) -> list[SkeletonSample]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        m, t = 1 + i % 2, 5 + 3 * i
        kp = rng.normal(size=(m, t, 25, channels)).astype(np.float32)
        sc = rng.random((m, t, 25)).astype(np.float32) if score else None
        out.append(SkeletonSample(kp, i % 3, sc, {"subject": i % 4, "view": [1, 2]}, f"s{i:02d}"))
    return out


def write(path: Path, samples: list[SkeletonSample], **kw) -> Path:
    kw.setdefault("splits", {"train": [0, 2, 4], "test": [1, 3, 5]})
    return write_store(path, samples, layout="ntu25", class_names=CLASSES, **kw)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "store", make_samples(score=True), provenance={"source": "unit"})


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    samples = make_samples(score=True)
    originals = [(s.keypoint.copy(), s.score.copy()) for s in samples]
    path = write(tmp_path / "st", samples, provenance={"source": "unit", "files": ["a.skeleton"]})
    store = open_store(path)
    assert len(store) == 6
    assert store.class_names == CLASSES and store.num_classes == 3
    assert store.layout.name == "ntu25" and store.layout.num_joints == 25
    assert store.num_channels == 3 and store.has_score
    assert store.labels.tolist() == [0, 1, 2, 0, 1, 2] and store.labels.dtype == np.int64
    assert store.lengths.tolist() == [5, 8, 11, 14, 17, 20]
    assert store.num_persons.tolist() == [1, 2, 1, 2, 1, 2]
    assert store.sample_ids == [f"s{i:02d}" for i in range(6)]
    assert store.split("train").tolist() == [0, 2, 4]
    assert sorted(store.splits) == ["test", "train"]
    assert store.meta(3) == {"subject": 3, "view": [1, 2]}
    assert store.meta_column("subject").tolist() == [0, 1, 2, 3, 0, 1]
    assert store.provenance["source"] == "unit" and store.provenance["files"] == ["a.skeleton"]
    assert store.provenance["counts"] == {
        "num_samples": 6,
        "num_frames": 75,
        "num_rows": 117,
    }  # 5 + 2*8 + 11 + 2*14 + 17 + 2*20
    assert "skelact_version" in store.provenance and "created" in store.provenance
    for i, (kp, sc) in enumerate(originals):
        sample = store[i]
        assert sample.keypoint.dtype == np.float32 and sample.keypoint.shape == kp.shape
        np.testing.assert_array_equal(sample.keypoint, kp)  # float32 storage: exact
        np.testing.assert_array_equal(sample.score, sc)
        assert sample.label == i % 3 and sample.sample_id == f"s{i:02d}"
    assert [s.sample_id for s in store] == store.sample_ids
    assert store.dtype == "float32"
    assert (tmp_path / "st" / "score.f32").stat().st_size == 117 * 25 * 4  # float32 rows of V
    assert (tmp_path / "st" / "frames.f32").stat().st_size == 117 * 25 * 3 * 4


def test_float16_storage_is_an_explicit_option(tmp_path: Path) -> None:
    samples = make_samples(score=True)
    originals = [(s.keypoint.copy(), s.score.copy()) for s in samples]
    store = SkeletonStore(write(tmp_path / "st", samples, dtype="float16"))
    assert store.dtype == "float16"
    assert json.loads((tmp_path / "st" / "manifest.json").read_text())["dtype"] == "float16"
    assert sorted(p.name for p in (tmp_path / "st").glob("*.f*")) == ["frames.f16", "score.f16"]
    assert (tmp_path / "st" / "frames.f16").stat().st_size == 117 * 25 * 3 * 2
    for i, (kp, sc) in enumerate(originals):
        sample = store[i]
        assert sample.keypoint.dtype == np.float32
        np.testing.assert_array_equal(sample.keypoint, kp.astype(np.float16).astype(np.float32))
        np.testing.assert_array_equal(sample.score, sc.astype(np.float16).astype(np.float32))
    with pytest.raises(ConfigError, match="`dtype` must be one of float32, float16, got 'float64'"):
        write(tmp_path / "other", samples, dtype="float64")


def test_version_1_store_still_reads(tmp_path: Path) -> None:
    """A store written before the dtype existed: float16 files, version 1, no ``dtype`` in the manifest,
    and the fingerprint computed without it (checkpoints recorded that value)."""
    samples = make_samples(score=True)
    expected = [s.keypoint.astype(np.float16).astype(np.float32) for s in samples]
    path = write(tmp_path / "old", samples, dtype="float16")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["version"] = 1
    del manifest["dtype"]
    keys = ("layout", "class_names", "num_samples", "num_joints", "num_channels", "has_score", "files")
    old_fingerprint = hashlib.sha256(json.dumps({k: manifest[k] for k in keys}, sort_keys=True).encode())
    manifest["fingerprint"] = old_fingerprint.hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    store = SkeletonStore(path)
    assert store.dtype == "float16" and store.fingerprint == old_fingerprint.hexdigest()
    np.testing.assert_array_equal(store.read(3)[0], expected[3])


def test_store_without_score_and_2d(tmp_path: Path) -> None:
    store = SkeletonStore(write(tmp_path / "st", make_samples(channels=2), splits=None))
    kp, sc = store.read(1)
    assert kp.shape == (2, 8, 25, 2) and sc is None
    assert not store.has_score and store.splits == {}
    assert not (tmp_path / "st" / "score.f32").exists()


def test_read_with_frames_and_max_persons(store_dir: Path) -> None:
    store = SkeletonStore(store_dir)
    full, full_sc = store.read(3)  # 2 persons x 14 frames
    frames = np.array([13, 0, 0, 7])
    kp, sc = store.read(3, frames)
    assert kp.shape == (2, 4, 25, 3) and sc.shape == (2, 4, 25)
    np.testing.assert_array_equal(kp, full[:, frames])
    np.testing.assert_array_equal(sc, full_sc[:, frames])
    kp1, sc1 = store.read(3, frames, max_persons=1)
    np.testing.assert_array_equal(kp1, full[:1, frames])
    assert sc1.shape == (1, 4, 25)
    assert store.read(2, max_persons=4)[0].shape == (1, 11, 25, 3)  # M' = min(M, max_persons)
    assert store.read(np.int64(-1))[0].shape == (2, 20, 25, 3)
    assert store.read(0, np.array([], dtype=np.int64))[0].shape == (1, 0, 25, 3)


def test_read_rejects_bad_arguments(store_dir: Path) -> None:
    store = SkeletonStore(store_dir)
    with pytest.raises(
        ConfigError, match=r"bad frame indices for sample 0 with 5 frames: index 5 is out of bounds"
    ):
        store.read(0, np.array([0, 5]))
    with pytest.raises(ConfigError, match="1-D integer index array, got float64"):
        store.read(0, np.array([0.5]))
    with pytest.raises(ConfigError, match="1-D integer index array, got bool"):
        store.read(0, np.ones(5, dtype=bool))
    with pytest.raises(ConfigError, match="1-D integer index array"):
        store.read(0, np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ConfigError, match="max_persons"):
        store.read(0, max_persons=0)
    with pytest.raises(IndexError, match="sample index 6 out of range"):
        store.read(6)
    with pytest.raises(ConfigError, match=r"no split 'val' \(known splits: train, test\)"):
        store.split("val")


def test_returned_arrays_are_independent_and_index_read_only(store_dir: Path) -> None:
    store = SkeletonStore(store_dir)
    kp, _ = store.read(0)
    kp[:] = 100.0  # a private float32 copy, not a view of the map
    assert store.read(0)[0].max() < 100.0
    with pytest.raises(ValueError):
        store.labels[0] = 2


def test_pickle_round_trip_reads(store_dir: Path) -> None:
    store = SkeletonStore(store_dir)
    expected = store.read(5, np.arange(4))[0]
    blob = pickle.dumps(store)
    assert len(blob) < 20_000
    clone = pickle.loads(blob)
    assert not clone.labels.flags.writeable
    assert clone._frames is None  # maps open lazily in the receiving process
    np.testing.assert_array_equal(clone.read(5, np.arange(4))[0], expected)
    assert clone.sample_ids[5] == "s05" and clone.meta(5)["subject"] == 1


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    samples = make_samples()

    def broken() -> Iterator[SkeletonSample]:
        yield from samples[:3]
        raise RuntimeError("reader crashed")

    with pytest.raises(RuntimeError, match="reader crashed"):
        write(tmp_path / "st", broken())
    assert list(tmp_path.iterdir()) == []


def test_overwrite_refused_then_replaced(tmp_path: Path, store_dir: Path) -> None:
    with pytest.raises(SkelactError, match="already exists"):
        write(store_dir, make_samples(2), splits=None)
    write(store_dir, make_samples(2, seed=1), splits=None, overwrite=True)
    store = SkeletonStore(store_dir)
    assert len(store) == 2 and store.splits == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # no temp or old directory left
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(SkelactError, match="not a skelact store"):
        write(other, make_samples(2), splits=None, overwrite=True)
    assert (other / "keep.txt").exists()


def test_index_tampering_detected(store_dir: Path) -> None:
    index = store_dir / "index.npz"
    data = bytearray(index.read_bytes())
    data[-30] ^= 0xFF
    index.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"index\.npz does not match the checksum"):
        SkeletonStore(store_dir)


def test_truncated_frames_detected(store_dir: Path) -> None:
    frames = store_dir / "frames.f32"
    size = frames.stat().st_size
    with open(frames, "r+b") as fh:
        fh.truncate(size - 150)
    with pytest.raises(FormatError, match=rf"frames.f32 has {size - 150} bytes, index expects {size}") as err:
        SkeletonStore(store_dir)
    assert str(store_dir) in str(err.value)


def test_unknown_version_and_missing_manifest(tmp_path: Path, store_dir: Path) -> None:
    manifest = json.loads((store_dir / "manifest.json").read_text())
    manifest["version"] = 99
    (store_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FormatError, match=r"version 99 is not supported \(.* reads versions 1, 2\)"):
        SkeletonStore(store_dir)
    with pytest.raises(FormatError, match="not a skelact store"):
        SkeletonStore(tmp_path / "nowhere")


def test_manifest_edit_detected(store_dir: Path) -> None:
    manifest = json.loads((store_dir / "manifest.json").read_text())
    manifest["class_names"][0] = "renamed"
    (store_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FormatError, match=r"manifest\.json does not match its fingerprint"):
        SkeletonStore(store_dir)


def test_manifest_names_only_the_stores_own_files(tmp_path: Path, store_dir: Path) -> None:
    """Even with a recomputed fingerprint, a manifest cannot point the reader at another file."""
    (tmp_path / "elsewhere.f32").write_bytes((store_dir / "frames.f32").read_bytes())
    manifest = json.loads((store_dir / "manifest.json").read_text())
    manifest["files"]["frames"]["name"] = "../elsewhere.f32"
    keys = (
        "layout",
        "class_names",
        "num_samples",
        "num_joints",
        "num_channels",
        "has_score",
        "files",
        "dtype",
    )
    manifest["fingerprint"] = hashlib.sha256(
        json.dumps({k: manifest[k] for k in keys}, sort_keys=True).encode()
    ).hexdigest()
    (store_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FormatError, match=r"manifest\.json does not list 'frames' as frames\.f32"):
        SkeletonStore(store_dir)


def test_verify_rehashes_frames(store_dir: Path) -> None:
    store = SkeletonStore(store_dir)
    assert [check.name for check in store.verify()] == ["frames.f32", "score.f32"]
    frames = store_dir / "frames.f32"
    data = bytearray(frames.read_bytes())
    data[10] ^= 0x01
    frames.write_bytes(bytes(data))  # same size: only a full check notices
    with pytest.raises(FormatError, match=r"frames\.f32 does not match the SHA-256 in manifest\.json"):
        store.verify()


def test_mixed_channels_rejected(tmp_path: Path) -> None:
    samples = make_samples(2) + make_samples(1, channels=2)
    with pytest.raises(FormatError, match=r"sample 's00'.*expected 3 coordinates per joint, got 2"):
        write(tmp_path / "st", samples, splits=None)
    assert not (tmp_path / "st").exists()


def test_nan_sample_named(tmp_path: Path) -> None:
    samples = make_samples(3)
    samples[2].keypoint[0, 1, 4, 0] = np.nan
    samples[2].sample_id = "bad_one"
    with pytest.raises(
        FormatError, match=r"sample 'bad_one'.*NaN or Inf \(first at person 0, frame 1, joint 4\)"
    ):
        write(tmp_path / "st", samples, splits=None)


def test_float16_overflow_rejected(tmp_path: Path) -> None:
    samples = make_samples(2)
    samples[1].keypoint[0, 2, 3, 1] = 70000.0  # would become inf in float16
    with pytest.raises(
        FormatError, match=r"sample 's01'.*70000.0 at \[0, 2, 3, 1\] exceeds the float16 range"
    ):
        write(tmp_path / "st", samples, splits=None, dtype="float16")
    assert SkeletonStore(write(tmp_path / "wide", samples, splits=None))[1].keypoint[0, 2, 3, 1] == 70000.0


def test_mixed_score_presence_rejected(tmp_path: Path) -> None:
    samples = make_samples(1, score=True) + make_samples(1, seed=3)
    samples[1].sample_id = "plain"
    with pytest.raises(FormatError, match=r"sample 'plain'.*has no score but earlier samples do"):
        write(tmp_path / "st", samples, splits=None)


def test_write_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"split 'test' has index 9 outside 0\.\.5"):
        write(tmp_path / "a", make_samples(), splits={"test": [1, 9]})
    with pytest.raises(ConfigError, match="no samples"):
        write(tmp_path / "b", [], splits=None)
    with pytest.raises(FormatError, match=r"label 3 outside 0\.\.2"):
        write(tmp_path / "c", [SkeletonSample(np.zeros((1, 2, 25, 3)), 3, sample_id="x")], splits=None)
    with pytest.raises(FormatError, match=r"sample 's00'.*used twice"):
        write(tmp_path / "d", make_samples(1) + make_samples(1), splits=None)
    with pytest.raises(ConfigError, match="class name 'a' appears twice"):
        write_store(tmp_path / "e", make_samples(1), layout="ntu25", class_names=["a", "a"])
    with pytest.raises(FormatError, match="expected 25 joints, got 17"):
        write(tmp_path / "f", [SkeletonSample(np.zeros((1, 2, 17, 2)), 0)], splits=None)
    assert list(tmp_path.iterdir()) == []


def test_check_layout(store_dir: Path) -> None:
    store = SkeletonStore(store_dir)
    store.check_layout("ntu25")
    with pytest.raises(
        LayoutError, match="prepared for layout ntu25 \\(25 joints\\), the model expects coco17"
    ):
        store.check_layout("coco17")


def test_missing_ids_get_defaults(tmp_path: Path) -> None:
    samples = [SkeletonSample(np.ones((1, 3, 25, 3)), 1) for _ in range(2)]
    store = SkeletonStore(write(tmp_path / "st", samples, splits=None))
    assert store.sample_ids == ["sample000000", "sample000001"]


@pytest.mark.parametrize(
    ("splits", "pair"),
    [
        ({"xsub_train": [0, 1, 2], "xsub_test": [2, 3]}, ("xsub_train", "xsub_test")),
        ({"train": [0, 1], "val": [4], "test": [4, 5]}, ("val", "test")),
        ({"a_train_full": [0, 1], "a_test": [1]}, ("a_train_full", "a_test")),
    ],
)
def test_a_test_sample_in_a_training_split_is_refused(
    tmp_path: Path, splits: dict[str, list[int]], pair: tuple[str, str]
) -> None:
    with pytest.raises(ConfigError, match=rf"splits '{pair[0]}' and '{pair[1]}' share 1 sample"):
        write(tmp_path / "leak", make_samples(), splits=splits)
    assert not (tmp_path / "leak").exists()
    # Other protocols' splits may overlap (xsub_train and xview_test share samples in NTU).
    write(tmp_path / "ok", make_samples(), splits={"xsub_train": [0, 1], "xview_test": [1, 2]})
