"""Full SHA-256 checks of a store's frame files, made the first time each file is opened and remembered.

The manifest records the SHA-256 of every store file. The small ones (index, meta, splits) are read whole
and hashed on every open. The frame files can be gigabytes and are memory-mapped, so their full check is
remembered in the user's cache: ``$SKELACT_CACHE_DIR``, else ``$XDG_CACHE_HOME/skelact``, else
``~/.cache/skelact``, one small JSON record per file under ``verified/``. A record is keyed by the file's
device and inode (hard links, which `add_split` uses, share it) and holds the size, the mtime in
nanoseconds and the hash that matched; an open whose ``stat`` agrees costs no read. Any write changes the
mtime, so a modified file is hashed again. Store directories may be read-only; the cache is the user's.
Where it cannot be written, every open hashes in full (correct, only slower).

A file changed less than `RACY_SECONDS` before it was hashed is not recorded: timestamps are coarse
(a few milliseconds on Linux), so a write just after the hash could keep the same mtime (git calls such
entries "racily clean").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skelact.atomic import atomic_write
from skelact.errors import FormatError

RACY_SECONDS = 2.0
CHUNK = 1 << 24


@dataclass(frozen=True)
class FileCheck:
    """How one file's checksum was confirmed: hashed now (`seconds` spent) or found in the cache."""

    name: str
    bytes: int
    hashed: bool
    seconds: float = 0.0


def cache_dir() -> Path:
    """Where skelact keeps per-user state that can be rebuilt (the verification records)."""
    if explicit := os.environ.get("SKELACT_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skelact"


def check_file(store: Path, entry: Mapping[str, Any], *, force: bool = False) -> FileCheck:
    """Confirm that ``store / entry["name"]`` has the SHA-256 ``entry["sha256"]``; raise FormatError if not.

    Without `force`, a cache record for this exact file version makes it O(1).
    """
    path = store / entry["name"]
    before = path.stat()
    record = _record_path(before)
    if not force and _cached(record, before, entry["sha256"]):
        return FileCheck(entry["name"], before.st_size, hashed=False)
    start = time.perf_counter()
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except OSError as err:
        raise FormatError(f"cannot read {entry['name']}: {err.strerror}", path=store) from None
    seconds = time.perf_counter() - start
    found = digest.hexdigest()
    if found != entry["sha256"]:
        _forget(record)
        raise FormatError(
            f"{entry['name']} does not match the SHA-256 in manifest.json (expected "
            f"{entry['sha256'][:16]}..., found {found[:16]}...): the store was modified or damaged",
            path=store,
            hint="prepare the store again with `skelact prepare`, or restore it from a backup",
        )
    after = path.stat()
    unchanged = _identity(after) == _identity(before)
    settled = time.time_ns() - after.st_mtime_ns > RACY_SECONDS * 1e9
    if unchanged and settled:
        _remember(record, after, found, path)
    return FileCheck(entry["name"], after.st_size, hashed=True, seconds=seconds)


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _record_path(st: os.stat_result) -> Path:
    return cache_dir() / "verified" / f"{st.st_dev:x}-{st.st_ino:x}.json"


def _cached(record: Path, st: os.stat_result, sha256: str) -> bool:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    return (
        data.get("sha256") == sha256
        and data.get("size") == st.st_size
        and data.get("mtime_ns") == st.st_mtime_ns
    )


def _remember(record: Path, st: os.stat_result, sha256: str, path: Path) -> None:
    entry = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "path": str(path.resolve())}
    try:
        with atomic_write(record, "w", encoding="utf-8") as fh:
            json.dump(entry, fh)
    except OSError:
        pass  # a read-only or full cache: the next open hashes again


def _forget(record: Path) -> None:
    with contextlib.suppress(OSError):
        record.unlink(missing_ok=True)
