"""A restricted unpickler for annotation files from other toolboxes (DESIGN.md principle 8).

Plain `pickle.load` runs any callable a file names, so a downloaded ``.pkl`` could execute code. The files
we read (PYSKL/MMAction2 annotations, 2s-AGCN label lists, DD-Net J-HMDB poses) only need numpy arrays,
numpy scalars and dtypes, and plain containers. `SafeUnpickler` resolves exactly those globals and refuses
every other one *before* it is called, with a `FormatError` naming the file and the refused
``module.name``.

Python-2 pickles (older 2s-AGCN label files) need ``encoding="latin1"``: numpy's array state is a py2
``str`` of raw bytes, which latin-1 maps one to one (numpy's own documentation recommends it).
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from skelact.errors import FormatError

try:  # numpy >= 2 moved the internals to numpy._core; pickles written by numpy 1.x name numpy.core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]


def _codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """What protocol-0/2 pickles call to rebuild ``bytes`` (``_codecs.encode(text, "latin1")``).

    Only text-to-bytes text encodings are accepted, so the codec machinery is not reachable for anything
    else (e.g. the bytes-to-bytes ``zlib_codec``)."""
    if not isinstance(obj, str) or encoding.lower().replace("-", "_") not in _TEXT_ENCODINGS:
        raise pickle.UnpicklingError(f"refusing _codecs.encode({type(obj).__name__}, {encoding!r})")
    return obj.encode(encoding, errors)


_TEXT_ENCODINGS = frozenset({"latin1", "latin_1", "iso_8859_1", "iso8859_1", "ascii", "utf_8", "utf8"})

_NUMPY_GLOBALS: dict[str, Any] = {
    "numpy.ndarray": np.ndarray,
    "numpy.dtype": np.dtype,
    "numpy.core.multiarray._reconstruct": _multiarray._reconstruct,
    "numpy._core.multiarray._reconstruct": _multiarray._reconstruct,
    "numpy.core.multiarray.scalar": _multiarray.scalar,
    "numpy._core.multiarray.scalar": _multiarray.scalar,
    # Protocol-5 pickles of arrays: frombuffer(buffer, dtype).reshape(shape), no code of the file's choosing.
    "numpy.core.numeric._frombuffer": _numeric._frombuffer,
    "numpy._core.numeric._frombuffer": _numeric._frombuffer,
}

# Value and container types only; Python 2 pickles name them under ``__builtin__``.
_BUILTIN_TYPES: dict[str, Any] = {
    "set": set,
    "frozenset": frozenset,
    "list": list,
    "dict": dict,
    "tuple": tuple,
    "bytearray": bytearray,
    "bytes": bytes,
    "str": str,
    "int": int,
    "float": float,
    "complex": complex,
    "bool": bool,
    "slice": slice,
    "range": range,
}

ALLOWED_GLOBALS: dict[str, Any] = {
    **_NUMPY_GLOBALS,
    **{f"builtins.{name}": obj for name, obj in _BUILTIN_TYPES.items()},
    **{f"__builtin__.{name}": obj for name, obj in _BUILTIN_TYPES.items()},
    "__builtin__.xrange": range,
    "__builtin__.unicode": str,
    "__builtin__.long": int,
    "_codecs.encode": _codecs_encode,
    "collections.OrderedDict": OrderedDict,
}
"""Every ``module.name`` a pickle may reference; anything else is refused."""


class RefusedGlobal(pickle.UnpicklingError):
    """Raised inside the unpickler for a global outside the allow-list (wrapped into a FormatError)."""

    def __init__(self, qualified_name: str) -> None:
        super().__init__(qualified_name)
        self.qualified_name = qualified_name


class SafeUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` that resolves only `ALLOWED_GLOBALS`; the refused name is never imported."""

    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        try:
            return ALLOWED_GLOBALS[qualified]
        except KeyError:
            raise RefusedGlobal(qualified) from None


def load_pickle(path: str | PathLike[str], *, encoding: str = "ASCII") -> Any:
    """Unpickle `path` through `SafeUnpickler`; any problem is one `FormatError` naming the file.

    Use ``encoding="latin1"`` for Python-2 pickles that hold numpy arrays.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as err:
        raise FormatError(f"cannot open: {err.strerror}", path=path) from None
    with handle:
        return _load(handle, path, encoding)


def loads_pickle(data: bytes, *, source: str | PathLike[str] | None = None, encoding: str = "ASCII") -> Any:
    """Like `load_pickle` for bytes already in memory; `source` names them in errors."""
    return _load(io.BytesIO(data), source, encoding)


def _load(handle: BinaryIO, source: str | PathLike[str] | None, encoding: str) -> Any:
    try:
        return SafeUnpickler(handle, encoding=encoding).load()
    except RefusedGlobal as err:
        raise FormatError(
            f"pickle refers to {err.qualified_name!r}, which is not allowed: only numpy arrays, numpy "
            "scalars/dtypes and plain containers can be read safely",
            path=source,
            hint="a pickle naming other code may run it when loaded; re-export the data as plain arrays",
        ) from None
    except EOFError:
        raise FormatError("pickle is truncated (ended before its STOP opcode)", path=source) from None
    except UnicodeDecodeError as err:
        raise FormatError(
            f"cannot decode a Python-2 string with encoding {encoding!r} ({err.reason})",
            path=source,
            hint="Python-2 pickles holding numpy arrays need encoding='latin1'",
        ) from None
    except (FormatError, MemoryError):
        raise
    except Exception as err:  # any failure inside untrusted bytes means a malformed file
        raise FormatError(f"not a readable pickle ({type(err).__name__}: {err})", path=source) from None
