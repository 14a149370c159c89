"""Score files: per-sample class scores with sample ids, the unit that ensembles and reports work on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skelact.atomic import atomic_write
from skelact.errors import FormatError

# Version 1 files may lack `meta` (written before it existed); it is optional, so adding it kept the version.
SCORE_FILE_VERSION = 1


@dataclass
class ScoreFile:
    """Scores of one model on one split.

    Attributes:
        sample_ids: (N,) sample names, the key for fusing streams.
        labels: (N,) true labels (-1 when unknown).
        logits: (N, K) clip-averaged logits.
        probs: (N, K) clip-averaged softmax probabilities (PYSKL's multi-clip rule).
        class_names: K names.
        meta: what produced the scores, JSON-serialisable: `split`, `modality` (canonical, e.g. "j" or
            "j,b"), `model`, `checkpoint`, `selection` (how the checkpoint was chosen), ... Ensembles use
            `modality` to recognise streams and `split` to keep validation and test apart. Empty for files
            written before it existed.
    """

    sample_ids: np.ndarray
    labels: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    class_names: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.sample_ids)
        consistent = (
            self.logits.shape == self.probs.shape
            and self.logits.ndim == 2
            and self.logits.shape[0] == n
            and len(self.labels) == n
            and self.logits.shape[1] == len(self.class_names)
        )
        if not consistent:
            raise FormatError(
                f"inconsistent score arrays: {n} ids, {len(self.labels)} labels, {len(self.class_names)} "
                f"class names, logits {self.logits.shape}, probs {self.probs.shape}"
            )

    def write(self, path: str | Path) -> Path:
        """Write atomically (temporary file, then rename), so a crash never leaves half a file."""
        path = Path(path)
        with atomic_write(path, "wb") as handle:
            np.savez(
                handle,
                version=np.int64(SCORE_FILE_VERSION),
                sample_ids=np.asarray(self.sample_ids, dtype=str),
                labels=np.asarray(self.labels, dtype=np.int64),
                logits=np.asarray(self.logits, dtype=np.float32),
                probs=np.asarray(self.probs, dtype=np.float32),
                class_names=np.asarray(self.class_names, dtype=str),
                # JSON in a 0-d string array: readable with allow_pickle=False, unlike an object array.
                meta=np.asarray(json.dumps(self.meta, sort_keys=True)),
            )
        return path

    @classmethod
    def read(cls, path: str | Path) -> ScoreFile:
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise FormatError(f"not a skelact score file: {err}", path=path) from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise FormatError("not a skelact score file: expected an .npz archive", path=path)
        with data:
            try:
                version = int(data["version"])
                if version > SCORE_FILE_VERSION:
                    raise FormatError(
                        f"score file version {version} is newer than this skelact ({SCORE_FILE_VERSION})",
                        path=path,
                        hint="upgrade skelact",
                    )
                return cls(
                    sample_ids=data["sample_ids"],
                    labels=data["labels"],
                    logits=data["logits"],
                    probs=data["probs"],
                    class_names=tuple(str(c) for c in data["class_names"]),
                    meta=_read_meta(data),
                )
            except (KeyError, ValueError) as err:
                raise FormatError(f"not a skelact score file: {err}", path=path) from None
            except FormatError as err:
                if err.path:
                    raise
                raise FormatError(str(err), path=path) from None


def _read_meta(data: np.lib.npyio.NpzFile) -> dict[str, Any]:
    if "meta" not in data.files:
        return {}
    meta = json.loads(str(data["meta"]))
    if not isinstance(meta, dict):
        raise ValueError(f"meta must be a JSON object, got {type(meta).__name__}")
    return meta
