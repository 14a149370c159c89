"""Score files: per-sample class scores with sample ids, the unit that ensembles and reports work on."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelact.errors import FormatError

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
    """

    sample_ids: np.ndarray
    labels: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.sample_ids)
        if self.logits.shape != self.probs.shape or self.logits.shape[0] != n or len(self.labels) != n:
            raise FormatError(
                f"inconsistent score arrays: {n} ids, {len(self.labels)} labels, "
                f"logits {self.logits.shape}, probs {self.probs.shape}"
            )

    def write(self, path: str | Path) -> Path:
        """Write atomically (temporary file, then rename), so a crash never leaves half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    version=np.int64(SCORE_FILE_VERSION),
                    sample_ids=np.asarray(self.sample_ids, dtype=str),
                    labels=np.asarray(self.labels, dtype=np.int64),
                    logits=np.asarray(self.logits, dtype=np.float32),
                    probs=np.asarray(self.probs, dtype=np.float32),
                    class_names=np.asarray(self.class_names, dtype=str),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def read(cls, path: str | Path) -> ScoreFile:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    sample_ids=data["sample_ids"],
                    labels=data["labels"],
                    logits=data["logits"],
                    probs=data["probs"],
                    class_names=tuple(str(c) for c in data["class_names"]),
                )
        except (OSError, KeyError, ValueError) as err:
            raise FormatError(f"not a skelact score file: {err}", path=path) from None
