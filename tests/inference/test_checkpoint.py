"""`load_checkpoint` answers every kind of bad file with one FormatError that says what is wrong with it
(issue 13 item 9): empty, truncated, damaged after saving, not a checkpoint, code-carrying, foreign dicts."""

from __future__ import annotations

import pathlib
import zipfile
from pathlib import Path

import pytest
import torch

from skelact.errors import FormatError, SkelactError
from skelact.inference.checkpoint import load_checkpoint


class Payload:
    def __reduce__(self) -> tuple:
        return (pathlib.Path.cwd, ())


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.ckpt"
    weights = torch.arange(4096, dtype=torch.float32)
    torch.save({"state_dict": {"net.w": weights}, "pytorch-lightning_version": "2.6.0"}, path)
    return path


def _error(path: Path, **kwargs: bool) -> str:
    with pytest.raises(FormatError) as caught:
        load_checkpoint(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


def test_a_good_checkpoint_loads(good: Path) -> None:
    checkpoint = load_checkpoint(good, trainer_state=True)
    assert torch.equal(checkpoint["state_dict"]["net.w"], torch.arange(4096, dtype=torch.float32))


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty.ckpt").write_bytes(b"")
    assert "the file is empty (0 bytes)" in _error(tmp_path / "empty.ckpt")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_a_truncated_file_says_truncated(good: Path, tmp_path: Path, keep: float) -> None:
    data = good.read_bytes()
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(data[: int(len(data) * keep)])
    message = _error(cut)
    assert "the file is truncated" in message and "miniz" not in message and len(message) < 250


def test_a_file_damaged_after_saving_is_refused_not_loaded_wrong(good: Path) -> None:
    """torch itself loads this file, with one weight silently changed; the zip's CRC-32 catches it."""
    data = bytearray(good.read_bytes())
    at = bytes(data).index(torch.tensor([1000.0]).numpy().tobytes())
    data[at] ^= 0x01
    good.write_bytes(bytes(data))
    assert "checksum of" in _error(good) and "damaged after it was saved" in _error(good)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hello, I am a text file\n", "not a torch checkpoint"),
        (bytes(range(256)) * 8, "not torch's pickle format"),
        (b"PK\x03\x04 not really a zip", "the file is truncated"),
    ],
)
def test_a_file_that_is_no_checkpoint_says_so(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "x.ckpt").write_bytes(content)
    message = _error(tmp_path / "x.ckpt")
    assert expected in message and "could run code" not in message


def test_a_zip_archive_that_torch_did_not_write(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.ckpt", "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "not a torch checkpoint (a zip archive torch cannot read: " in _error(tmp_path / "x.ckpt")


def test_a_code_carrying_file_is_refused(tmp_path: Path) -> None:
    torch.save({"state_dict": {}, "payload": Payload()}, tmp_path / "evil.ckpt")
    assert "could run code" in _error(tmp_path / "evil.ckpt")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ([1, 2, 3], "no dict inside"),
        ({"epoch": 3}, "'state_dict' should map names to tensors, found none"),
        ({"state_dict": [1]}, "found a list"),
        ({"state_dict": {"net.w": 3}}, "'net.w' holds int, not a tensor"),
        ({"state_dict": {}, "hyper_parameters": [1]}, "'hyper_parameters' is a list"),
    ],
)
def test_a_foreign_structure_is_one_error(tmp_path: Path, content: object, expected: str) -> None:
    torch.save(content, tmp_path / "x.ckpt")
    assert expected in _error(tmp_path / "x.ckpt")


def test_the_trainer_needs_its_state_and_the_predictor_does_not(tmp_path: Path) -> None:
    torch.save({"state_dict": {"net.w": torch.ones(2)}}, tmp_path / "slim.ckpt")
    assert load_checkpoint(tmp_path / "slim.ckpt")["state_dict"]["net.w"].sum() == 2
    assert "no Lightning trainer state" in _error(tmp_path / "slim.ckpt", trainer_state=True)


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SkelactError, match="is a directory, not a checkpoint file"):
        load_checkpoint(tmp_path)
    with pytest.raises(SkelactError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.ckpt")
