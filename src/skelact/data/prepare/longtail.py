"""Long-tailed training subsets (BRL, specs/brl.md section 4): the exponential rule and official list files.

Rule: with classes in label order (class 0 the head, class C−1 the tail), class c keeps

    n_c = floor(n_max · (1/ρ)^(c / (C−1)))

samples, the first n_c of its training samples after a seeded shuffle (all of them if it has fewer).
The shuffle draws from one `numpy.random.RandomState(seed)`, class after class in label order, as BRL's
generator script does; whether it reproduces the shipped lists sample for sample also depends on the input
order, so reading the official list files (`subset_from_names`) is the way to train on exactly those.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from skelact.errors import ConfigError, FormatError


def longtail_counts(n_max: int, rho: float, num_classes: int) -> np.ndarray:
    """Target size of every class: floor(n_max · (1/ρ)^(c/(C−1))), c = 0..C−1 (int64)."""
    if n_max < 1 or rho < 1 or num_classes < 1:
        raise ConfigError(f"need n_max >= 1, rho >= 1 and classes >= 1, got {n_max}, {rho}, {num_classes}")
    if num_classes == 1:
        return np.array([n_max], dtype=np.int64)
    # Python float arithmetic, term by term as the reference script computes it, so floor() agrees exactly.
    steps = num_classes - 1
    return np.array([int(n_max * (1.0 / rho) ** (c / steps)) for c in range(num_classes)], dtype=np.int64)


def longtail_subset(
    candidates: np.ndarray, labels: np.ndarray, counts: Sequence[int] | np.ndarray, seed: int = 0
) -> np.ndarray:
    """Sorted indices: for each class c, `counts[c]` of the `candidates` labelled c, after a seeded shuffle.

    `labels` holds one label per candidate. Classes with fewer candidates keep all of them (the caller
    reports the shortfall); the loop is over classes, never over samples.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if candidates.shape != labels.shape or candidates.ndim != 1:
        raise ConfigError("candidates and labels must be 1-D arrays of the same length")
    if labels.size and (labels.min() < 0 or labels.max() >= counts.size):
        raise ConfigError(f"labels outside 0..{counts.size - 1}")
    rng = np.random.RandomState(seed)
    kept = []
    for c, n_c in enumerate(counts.tolist()):
        members = candidates[labels == c]
        rng.shuffle(members)
        kept.append(members[:n_c])
    return np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)


def read_name_list(path: str | Path) -> list[str]:
    """Sample names of an official list file: one per line, surrounding spaces and blank lines ignored."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FormatError(f"cannot read the list: {err}", path=file) from None
    names = [line.strip() for line in text.splitlines()]
    names = [n for n in names if n]
    if not names:
        raise FormatError("the list names no samples", path=file, hint="one sample name per line")
    return names


def subset_from_names(
    sample_ids: Sequence[str], names: Sequence[str], *, allowed: np.ndarray | None = None, source: str = ""
) -> np.ndarray:
    """Sorted store indices of `names`; every name must be a sample of the store, once, and inside
    `allowed` (the source split) when given, so a list cannot smuggle test samples into training."""
    position = {sid: i for i, sid in enumerate(sample_ids)}
    seen: set[str] = set()
    indices = np.empty(len(names), dtype=np.int64)
    for line, name in enumerate(names, start=1):
        if name in seen:
            raise FormatError(f"sample {name!r} is listed twice", path=source or None, where=f"line {line}")
        if name not in position:
            raise FormatError(
                f"sample {name!r} is not in the store",
                path=source or None,
                where=f"line {line}",
                hint="prepare the store from the same dataset release",
            )
        seen.add(name)
        indices[line - 1] = position[name]
    if allowed is not None:
        outside = np.flatnonzero(~np.isin(indices, allowed))
        if outside.size:
            first = int(outside[0])
            raise FormatError(
                f"sample {names[first]!r} is not in the source split",
                path=source or None,
                where=f"line {first + 1}",
                hint="check --split: a training list must only name training samples",
            )
    return np.sort(indices)


def default_split_name(split: str, rho: float | None, list_file: str | Path | None) -> str:
    """``xsub_train_lt100`` for ρ = 100; ``<split>_<list file stem>`` for a list, sanitised for the store."""
    if list_file is not None:
        stem = "".join(ch if ch.isalnum() or ch in "_.+-" else "_" for ch in Path(list_file).stem)
        return f"{split}_{stem}"
    return f"{split}_lt{rho:g}"
