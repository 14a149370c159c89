"""Add a named split to an existing store without touching its data (BRL's long-tailed subsets, custom
selections).

A store is never modified in place (DESIGN.md principle 3): the new version is assembled in a temporary
sibling directory, with the frame, score, index and meta files hard-linked (copied where the file system has
no hard links), a new ``splits.npz`` and a new manifest, validated by opening it, and swapped in for the old
one (`skelact.atomic.replace_directory`). Readers that already opened the old version keep their memory
maps (same inodes). The content fingerprint changes, because it covers the split file. Hard links share
the frame files' verification record, so the new version's checksum check costs no read.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from skelact.atomic import WorkDir, clean_work_dirs, recover_directory, replace_directory
from skelact.data.store import (
    MANIFEST_FILE,
    SPLITS_FILE,
    SkeletonStore,
    _check_split_arrays,
    _fingerprint,
    _jsonable,
    _write_bytes,
)
from skelact.errors import ConfigError, SkelactError

DERIVED_KEY = "derived_splits"  # provenance entry: how each added split was made


def add_split(
    store: str | Path,
    name: str,
    indices: np.ndarray,
    *,
    record: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> SkeletonStore:
    """Write split `name` (sample indices) into the store at `store`; return the reopened store.

    `record` (JSON-compatible) is kept in the provenance under ``derived_splits.<name>``. An existing split
    of that name is replaced only with `overwrite`.
    """
    recover_directory(store)
    clean_work_dirs(store)
    old = SkeletonStore(store)
    path = old.path
    splits = {k: np.asarray(v) for k, v in old.splits.items()}
    if name in splits and not overwrite:
        raise SkelactError(
            f"store {path} already has a split {name!r}", hint="pass --overwrite or choose another --name"
        )
    splits[name] = np.asarray(indices, dtype=np.int64)
    arrays = _check_split_arrays(splits)
    new = arrays[name]
    if new.size == 0:
        raise ConfigError(f"split {name!r} would be empty")
    if new.min() < 0 or new.max() >= len(old) or np.unique(new).size != new.size:
        raise ConfigError(f"split {name!r} must hold distinct sample indices in 0..{len(old) - 1}")
    manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    work = WorkDir(path, "partial")
    tmp = work.path
    try:
        for key, entry in manifest["files"].items():
            if entry is not None and key != "splits":
                _link_or_copy(path / entry["name"], tmp / entry["name"])
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        manifest["files"]["splits"] = {
            "name": SPLITS_FILE,
            "sha256": _write_bytes(tmp / SPLITS_FILE, buffer.getvalue()),
        }
        manifest["split_names"] = list(arrays)
        derived = dict(manifest["provenance"].get(DERIVED_KEY, {}))
        derived[name] = _jsonable(dict(record or {}), "split record")
        manifest["provenance"][DERIVED_KEY] = derived
        manifest["fingerprint"] = _fingerprint(manifest)
        _write_bytes(tmp / MANIFEST_FILE, json.dumps(manifest, indent=1).encode())
        SkeletonStore(tmp)  # the new version must open before it replaces the old one
        replace_directory(work, path)
    finally:
        work.release()  # the unfinished version, or the replaced old one
    return SkeletonStore(path)


def _link_or_copy(src: Path, dst: Path) -> None:
    """The data files never change, so the new version can share them."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
