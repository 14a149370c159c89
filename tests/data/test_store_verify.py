"""Issue 13 item 2: a damaged store is refused on open (full SHA-256 once per file version, remembered in
the user's cache), and a read that meets NaN or Inf names the store, the sample index and its id."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore, write_store
from skelact.data.store_verify import cache_dir
from skelact.errors import ConfigError, FormatError

HOUR_AGO_NS = time.time_ns() - 3600 * 10**9


def make_store(path: Path, *, dtype: str = "float32") -> Path:
    rng = np.random.default_rng(0)
    samples = [
        SkeletonSample(rng.normal(size=(1, 6 + i, 25, 3)).astype(np.float32), i % 2, sample_id=f"clip{i}")
        for i in range(4)
    ]
    return write_store(path, samples, layout="ntu25", class_names=["a", "b"], dtype=dtype)


def settle(store: Path) -> None:
    """Date the frame file an hour back, as a store prepared earlier is: only such files are remembered
    (a file changed within the timestamp granularity could change again unnoticed)."""
    for file in store.glob("frames.*"):
        os.utime(file, ns=(HOUR_AGO_NS, HOUR_AGO_NS))


def flip_byte(file: Path, position: int) -> None:
    """Change one byte in place, keeping the size (what bit rot or a stray write does)."""
    with open(file, "r+b") as fh:
        fh.seek(position)
        value = fh.read(1)[0]
        fh.seek(position)
        fh.write(bytes([value ^ 0x40]))


def poke_nan(store: Path, sample: int, frame: int, joint: int) -> None:
    """Overwrite one coordinate of a person-0 row with NaN, keeping the file's mtime."""
    opened = SkeletonStore(store)
    file = store / "frames.f32"
    stat = file.stat()
    row = int(opened._offsets[sample]) + frame
    with open(file, "r+b") as fh:
        fh.seek((row * 25 + joint) * 3 * 4)
        fh.write(np.float32(np.nan).tobytes())
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_damaged_frame_file_is_refused_on_first_open(tmp_path: Path) -> None:
    store = make_store(tmp_path / "st")
    flip_byte(store / "frames.f32", 1000)  # same size: the size check on open cannot see it
    with pytest.raises(FormatError) as err:
        SkeletonStore(store)
    message = str(err.value)
    assert str(store) in message and "frames.f32 does not match the SHA-256 in manifest.json" in message
    assert "expected " in message and "skelact prepare" in message


def test_the_full_check_is_remembered_per_file_version(tmp_path: Path) -> None:
    store = make_store(tmp_path / "st")
    settle(store)
    first = SkeletonStore(store).verification
    assert [(c.name, c.hashed) for c in first] == [("frames.f32", True)]
    assert first[0].bytes == (store / "frames.f32").stat().st_size
    assert len(list((cache_dir() / "verified").glob("*.json"))) >= 1
    assert not SkeletonStore(store).verification[0].hashed  # O(1): a stat and a small record
    assert SkeletonStore(store, verify="always").verification[0].hashed
    flip_byte(store / "frames.f32", 500)  # a write moves the mtime: the record no longer applies
    with pytest.raises(FormatError, match=r"frames\.f32 does not match the SHA-256"):
        SkeletonStore(store)


def test_a_file_changed_just_now_is_checked_again(tmp_path: Path) -> None:
    store = make_store(tmp_path / "st")  # mtime is now: too fresh to remember
    assert SkeletonStore(store).verification[0].hashed
    assert SkeletonStore(store).verification[0].hashed


def test_an_unwritable_cache_means_a_full_check_on_every_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("SKELACT_CACHE_DIR", str(blocker))
    store = make_store(tmp_path / "st")
    settle(store)
    assert SkeletonStore(store).verification[0].hashed
    assert SkeletonStore(store).verification[0].hashed


def test_cache_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SKELACT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "skelact"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "skelact"


def test_verify_must_be_known(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="verify must be 'once' or 'always'"):
        SkeletonStore(make_store(tmp_path / "st"), verify="never")  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_a_non_finite_read_names_the_store_and_sample(tmp_path: Path, dtype: str) -> None:
    store = make_store(tmp_path / "st", dtype=dtype)
    settle(store)
    SkeletonStore(store)  # checked and remembered
    if dtype == "float32":
        poke_nan(store, sample=2, frame=3, joint=4)  # damage that keeps size and mtime
    else:
        file = store / "frames.f16"
        stat = file.stat()
        row = int(SkeletonStore(store)._offsets[2]) + 3
        with open(file, "r+b") as fh:
            fh.seek((row * 25 + 4) * 3 * 2)
            fh.write(np.float16(np.inf).tobytes())
        os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    opened = SkeletonStore(store)  # the remembered check applies: only the read can notice
    opened.read(1)
    pattern = (
        rf"{store}: sample 2 \('clip2'\) has a non-finite keypoint value \(NaN or Inf\) at person 0, "
        r"frame 3, joint 4: the frame data is damaged \(hint: run `skelact info .* --verify`"
    )
    with pytest.raises(FormatError, match=pattern):
        opened.read(2)
    with pytest.raises(FormatError, match=r"sample 2 \('clip2'\).* at person 0, frame 3, joint 4"):
        opened.read(2, np.array([0, 3, 5]))  # the frame is the sample's, not the clip position
    assert opened.read(2, np.array([0, 1, 2]))[0].shape == (1, 3, 25, 3)  # the rows it reads are fine
    with pytest.raises(FormatError, match="does not match the SHA-256"):
        opened.verify()
