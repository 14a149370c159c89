"""The restricted unpickler: numpy arrays and plain containers load, any other global is refused unrun."""

from __future__ import annotations

import collections
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.safe_pickle import ALLOWED_GLOBALS, load_pickle, loads_pickle
from skelact.errors import FormatError


class _RunsShell:
    """Pickles as a call of os.system, the classic malicious-pickle payload."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (self.command,))


def _py2_array_pickle(array: np.ndarray) -> bytes:
    """Protocol-2 bytes shaped like Python 2 + numpy 1.x write them: ``numpy.core`` names, py2 ``str``
    (BINSTRING) payloads, integer flags. Python 3 cannot produce this form, so it is assembled by hand."""

    def string(raw: bytes) -> bytes:
        return b"U" + bytes([len(raw)]) + raw if len(raw) < 256 else b"T" + struct.pack("<i", len(raw)) + raw

    shape = (
        b"".join(b"K" + bytes([n]) for n in array.shape) + {1: b"\x85", 2: b"\x86", 3: b"\x87"}[array.ndim]
    )
    return (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
        + string(b"b")
        + b"\x87R(K\x01"
        + shape
        + b"cnumpy\ndtype\n"
        + string(array.dtype.str[1:].encode())
        + b"K\x00K\x01\x87R(K\x03"
        + string(b"<")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
        + string(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
        + b"tb."
    )


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_arrays_scalars_and_containers_load(tmp_path: Path, protocol: int) -> None:
    data = {
        "keypoint": np.arange(24, dtype=np.float16).reshape(1, 2, 4, 3),
        "label": np.int64(7),
        "score": np.float32(0.5),
        "names": ["a", "b"],
        "shape": (1080, 1920),
        "set": {1, 2},
        "frozen": frozenset({3}),
        "bytes": b"\x00\xff",
        "ordered": collections.OrderedDict(x=1),
        "dtype": np.dtype("f4"),
        "structured": np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        "strings": np.array(["ab", "c"]),
    }
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    loaded = load_pickle(path)
    assert loaded.keys() == data.keys()
    for key, value in data.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(loaded[key], value)
            assert loaded[key].dtype == value.dtype
        else:
            assert loaded[key] == value


def test_python2_pickle_needs_latin1_and_reads_with_it(tmp_path: Path) -> None:
    array = np.array([[0.5, -1.25, 3.0], [128.0, 1e-3, -7.0]], dtype=np.float32)  # raw bytes include 0x80+
    path = tmp_path / "py2.pkl"
    path.write_bytes(_py2_array_pickle(array))
    loaded = load_pickle(path, encoding="latin1")
    np.testing.assert_array_equal(loaded, array)
    with pytest.raises(FormatError, match="latin1"):
        load_pickle(path)  # the default ASCII cannot decode the py2 byte string


def test_python2_text_strings_decode_as_latin1() -> None:
    data = b"(lp0\nS'caf\\xe9'\np1\naS'S001C001P001R001A001.skeleton'\np2\na."
    assert loads_pickle(data, encoding="latin1") == ["caf\xe9", "S001C001P001R001A001.skeleton"]


def test_os_system_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"annotations": [_RunsShell(f"touch {marker}")]}))
    with pytest.raises(FormatError) as info:
        load_pickle(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{os.system.__module__}.system" in message  # posix.system on Linux
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload, name",
    [
        (b"cos\nsystem\n(S'echo hi'\ntR.", "os.system"),
        (b"cbuiltins\neval\n(S'1+1'\ntR.", "builtins.eval"),
        (b"c__builtin__\ngetattr\n(S'x'\nS'y'\ntR.", "__builtin__.getattr"),
        (b"cbuiltins\n__import__\n(S'os'\ntR.", "builtins.__import__"),
        (b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x04exec\x93.", "builtins.exec"),
        (b"cnumpy\nload\n.", "numpy.load"),
        (b"ccopy_reg\n_reconstructor\n.", "copy_reg._reconstructor"),
    ],
)
def test_other_globals_are_refused_by_name(payload: bytes, name: str) -> None:
    with pytest.raises(FormatError, match=name.replace(".", r"\.")):
        loads_pickle(payload, source="crafted.pkl")


def test_allow_list_has_no_callables_that_run_code() -> None:
    dangerous = {"eval", "exec", "getattr", "setattr", "__import__", "open", "compile", "globals", "system"}
    assert not any(name.rsplit(".", 1)[-1] in dangerous for name in ALLOWED_GLOBALS)


def test_codecs_encode_only_encodes_text() -> None:
    ok = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R."
    assert loads_pickle(ok) == b"\xff"
    bad = b"\x80\x02c_codecs\nencode\nC\x01xX\x09\x00\x00\x00zlib_codec\x86R."
    with pytest.raises(FormatError):
        loads_pickle(bad)


def test_truncated_and_garbage_files(tmp_path: Path) -> None:
    good = pickle.dumps({"pose": [np.zeros((3, 15, 2))]})
    path = tmp_path / "cut.pkl"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(FormatError, match="truncated") as info:
        load_pickle(path)
    assert str(path) in str(info.value)
    with pytest.raises(FormatError, match="not a readable pickle"):
        loads_pickle(b"this is not a pickle", source="x.pkl")
    with pytest.raises(FormatError, match="cannot open"):
        load_pickle(tmp_path / "missing.pkl")
