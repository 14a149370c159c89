"""Multi-stream ensembles: align per-stream score files by sample id, fuse them with weights, and search the
weights on validation scores only.

Fusion is a weighted mean of per-stream scores, either clip-averaged softmax probabilities ("probs") or
clip-averaged logits ("logits"). The references differ: CTR-GCN's `ensemble.py` sums the raw network
outputs (logits) with 0.6 J + 0.6 B + 0.4 JM + 0.4 BM; PYSKL averages the softmax of its test clips and then
weights the streams J:B:JM:BM = 2:2:1:1 (README). Probabilities are the default: they put every stream on
the same scale, so a stream with larger logits cannot dominate the fixed weights. Each preset fuses as its
source did unless told otherwise (`ensemble_presets`; PSUMNet's per-split presets sum logits, as its code,
and match its body, hand and leg streams by the model the score files record). Weights are normalised to
sum to one; that changes no prediction, only keeps fused scores on the scale of one stream (fused
probabilities stay a distribution).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skelact.errors import ConfigError, FormatError
from skelact.evaluation.ensemble_presets import PRESET_FUSE as PRESET_FUSE  # re-exported
from skelact.evaluation.ensemble_presets import PRESETS, FuseMode, preset_key
from skelact.evaluation.metrics import summarize
from skelact.evaluation.scores import ScoreFile

FUSE_MODES: tuple[str, ...] = ("probs", "logits")

# Canonical stream order of four-stream ensembles, used when score files record no modality.
STREAM_ORDER: tuple[str, ...] = ("j", "b", "jm", "bm")

# Exhaustive search up to this many weight vectors; coordinate ascent beyond (6 streams at max weight 4 are
# about 15k vectors, still exhaustive).
MAX_GRID_SIZE = 20_000


@dataclass
class Streams:
    """Score files of several streams on the same samples, aligned to the first file's sample order.

    Attributes:
        paths: the files, in the order given.
        modalities: each file's recorded modality (None for files that do not record one).
        models: each file's recorded model name (None where not recorded); PSUMNet's part streams share a
            modality and differ by model.
        sample_ids, labels: (N,) shared by every stream.
        logits, probs: (S, N, K) per-stream scores.
        class_names: K names shared by every stream.
        split: the split the scores are on, when the files record it.
    """

    paths: list[Path]
    modalities: list[str | None]
    sample_ids: np.ndarray
    labels: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    class_names: tuple[str, ...]
    split: str | None = None
    models: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.models:
            self.models = [None] * len(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def scores(self, fuse: FuseMode) -> np.ndarray:
        """(S, N, K) scores of the kind that is fused."""
        if fuse not in FUSE_MODES:
            raise ConfigError(f"unknown fusion {fuse!r}; choose one of {', '.join(FUSE_MODES)}")
        return self.probs if fuse == "probs" else self.logits

    def keys(self) -> list[str | None] | None:
        """What tells the streams apart: the modalities when every file records a distinct one, else the
        models (PSUMNet's streams), else None."""
        for names in (self.modalities, self.models):
            if None not in names and len(set(names)) == len(names):
                return names
        return None

    def names(self) -> list[str]:
        """Short labels for tables: the distinct modality or model where recorded, else the position."""
        keys = self.keys()
        if keys is None:
            keys = self.modalities
        return [m if m else f"#{i + 1}" for i, m in enumerate(keys)]

    def reordered(self, order: Sequence[int]) -> Streams:
        return Streams(
            paths=[self.paths[i] for i in order],
            modalities=[self.modalities[i] for i in order],
            sample_ids=self.sample_ids,
            labels=self.labels,
            logits=self.logits[list(order)],
            probs=self.probs[list(order)],
            class_names=self.class_names,
            split=self.split,
            models=[self.models[i] for i in order],
        )


def load_streams(paths: Sequence[str | Path]) -> Streams:
    """Read and align score files; every mismatch is one FormatError naming the two files involved."""
    if not paths:
        raise ConfigError("no score files given")
    files = [(Path(p), ScoreFile.read(p)) for p in paths]
    return align(files)


def align(files: Sequence[tuple[Path, ScoreFile]]) -> Streams:
    """Put every file's rows in the first file's sample order, after checking they describe the same samples.

    Order may differ between files (distributed testing gathers in rank order); sets may not.
    """
    ref_path, ref = files[0]
    for path, scores in files:
        _check_unique_ids(path, scores)
    logits, probs = [], []
    for path, scores in files:
        if len(scores.class_names) != len(ref.class_names):
            raise FormatError(
                f"{len(scores.class_names)} classes, but {ref_path} has {len(ref.class_names)}",
                path=path,
                hint="fuse scores of models trained on the same classes",
            )
        if scores.class_names != ref.class_names:
            k = next(
                i for i, (a, b) in enumerate(zip(scores.class_names, ref.class_names, strict=True)) if a != b
            )
            raise FormatError(
                f"class {k} is named {scores.class_names[k]!r}, but {ref.class_names[k]!r} in {ref_path}",
                path=path,
                hint="fuse scores of models trained on the same store",
            )
        position = _positions(path, scores.sample_ids, ref_path, ref.sample_ids)
        if not np.array_equal(scores.labels[position], ref.labels):
            bad = int(np.flatnonzero(scores.labels[position] != ref.labels)[0])
            raise FormatError(
                f"sample {str(ref.sample_ids[bad])!r} has label {int(scores.labels[position][bad])}, but "
                f"{int(ref.labels[bad])} in {ref_path}",
                path=path,
            )
        logits.append(scores.logits[position])
        probs.append(scores.probs[position])
    splits = [scores.meta.get("split") for _, scores in files]
    known = {s for s in splits if s is not None}
    if len(known) > 1:
        listing = ", ".join(
            f"{path} holds {split!r}" for (path, _), split in zip(files, splits, strict=True) if split
        )
        raise FormatError(f"score files are on different splits: {listing}")
    return Streams(
        paths=[path for path, _ in files],
        modalities=[_modality(scores) for _, scores in files],
        sample_ids=np.asarray(ref.sample_ids),
        labels=np.asarray(ref.labels, dtype=np.int64),
        logits=np.stack(logits).astype(np.float64),
        probs=np.stack(probs).astype(np.float64),
        class_names=ref.class_names,
        split=known.pop() if known else None,
        models=[_recorded(scores, "model") for _, scores in files],
    )


def _modality(scores: ScoreFile) -> str | None:
    return _recorded(scores, "modality")


def _recorded(scores: ScoreFile, key: str) -> str | None:
    value = scores.meta.get(key)
    return str(value) if value else None


def _check_unique_ids(path: Path, scores: ScoreFile) -> None:
    ids, counts = np.unique(scores.sample_ids, return_counts=True)
    if (counts > 1).any():
        raise FormatError(
            f"sample id {str(ids[counts > 1][0])!r} occurs {counts[counts > 1][0]} times; ids must be unique",
            path=path,
        )


def _positions(path: Path, ids: np.ndarray, ref_path: Path, ref_ids: np.ndarray) -> np.ndarray:
    """Row of `ids` holding each of `ref_ids`; FormatError if the two sets differ."""
    ids, ref_ids = np.asarray(ids).astype(str), np.asarray(ref_ids).astype(str)
    missing = np.setdiff1d(ref_ids, ids)
    extra = np.setdiff1d(ids, ref_ids)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(
                f"lacks {len(missing)} of the {len(ref_ids)} samples of {ref_path} (e.g. {str(missing[0])!r})"
            )
        if len(extra):
            parts.append(f"has {len(extra)} samples that {ref_path} lacks (e.g. {str(extra[0])!r})")
        raise FormatError(
            "score files cover different samples: this file " + " and ".join(parts),
            path=path,
            hint="test every stream on the same split of the same store",
        )
    order = np.argsort(ids, kind="stable")
    return order[np.searchsorted(ids, ref_ids, sorter=order)]


def normalized(weights: Sequence[float], count: int) -> np.ndarray:
    """Validated weights scaled to sum to one."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (count,):
        raise ConfigError(f"{len(w)} weights for {count} score files", hint="give one weight per file")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(f"weights must be non-negative with a positive sum, got {list(weights)}")
    return w / w.sum()


def fuse(scores: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """(S, N, K) per-stream scores -> (N, K) weighted mean."""
    return np.tensordot(normalized(weights, len(scores)), scores, axes=1)


def fused_score_file(
    streams: Streams, weights: Sequence[float], fuse_mode: FuseMode, meta: dict[str, Any] | None = None
) -> ScoreFile:
    """The ensemble as a score file: fused probabilities are a mixture and their log the logits; fused logits
    give their softmax as probabilities. Either way both fields rank classes identically."""
    fused = fuse(streams.scores(fuse_mode), weights)
    if fuse_mode == "probs":
        probs = fused
        with np.errstate(divide="ignore"):
            logits = np.log(fused)
    else:
        logits = fused
        shifted = np.exp(fused - fused.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
    info = {"split": streams.split} if streams.split else {}
    return ScoreFile(
        sample_ids=streams.sample_ids,
        labels=streams.labels,
        logits=logits.astype(np.float32),
        probs=probs.astype(np.float32),
        class_names=streams.class_names,
        meta={**info, **(meta or {})},
    )


def metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float] | None:
    """top-1, top-5 and mean class accuracy on the samples with a known label (None if there are none)."""
    known = labels >= 0
    return summarize(scores[known], labels[known]) if known.any() else None


@dataclass
class EnsembleResult:
    """Each stream's and the fused accuracy, and how the weights were chosen."""

    weights: list[float]
    fuse: FuseMode
    weights_from: str
    streams: list[dict[str, Any]]
    fused: dict[str, float] | None
    search: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "fuse": self.fuse,
            "weights_from": self.weights_from,
            "streams": self.streams,
            "fused": self.fused,
            "search": self.search,
            "notes": self.notes,
        }


def evaluate(
    streams: Streams, weights: Sequence[float], fuse_mode: FuseMode, weights_from: str
) -> EnsembleResult:
    scores = streams.scores(fuse_mode)
    per_stream = [
        {
            "name": name,
            "file": str(path),
            "modality": modality,
            "model": model,
            "weight": float(weight),
            "metrics": metrics(scores[i], streams.labels),
        }
        for i, (name, path, modality, model, weight) in enumerate(
            zip(streams.names(), streams.paths, streams.modalities, streams.models, weights, strict=True)
        )
    ]
    return EnsembleResult(
        weights=[float(w) for w in weights],
        fuse=fuse_mode,
        weights_from=weights_from,
        streams=per_stream,
        fused=metrics(fuse(scores, weights), streams.labels),
    )


def preset_weights(preset: str, streams: Streams) -> tuple[list[float], str | None]:
    """A paper's weights for the streams, matched by recorded modality, or by recorded model for presets
    whose streams are models (PSUMNet); else by position, with a note."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    table = PRESETS[preset]
    key = preset_key(preset)
    names = streams.modalities if key == "modality" else streams.models
    recorded = [m is not None for m in names]
    if all(recorded):
        for path, name in zip(streams.paths, names, strict=True):
            if name not in table:
                raise ConfigError(
                    f"preset {preset} has weights for the streams {', '.join(table)}, but {path} holds "
                    f"{key} {name!r}",
                    hint="pass --weights with one weight per file",
                )
        return [table[m] for m in names], None  # type: ignore[index]
    if any(recorded):
        raise ConfigError(
            f"some score files record their {key} and some do not, so the preset cannot match them",
            hint="pass --weights with one weight per file",
        )
    if len(streams) > len(table):
        raise ConfigError(
            f"preset {preset} covers at most {len(table)} streams, got {len(streams)} files",
            hint="pass --weights with one weight per file",
        )
    order = tuple(table)[: len(streams)]  # the preset's own stream order (STREAM_ORDER for 4 streams)
    note = (
        f"the score files record no {key}; preset {preset} assumes they are given in the order "
        f"{', '.join(order)}"
    )
    return [table[m] for m in order], note


def match_streams(test: Streams, val: Streams) -> tuple[Streams, str | None]:
    """`val` reordered so that its i-th stream is the test's i-th: by modality where every file records a
    distinct one, else by model where every file records a distinct one (PSUMNet's part streams), else by
    position (with a note)."""
    if len(test) != len(val):
        raise ConfigError(
            f"{len(val)} validation score files for {len(test)} test score files",
            hint="give one validation file per stream",
        )
    if test.class_names != val.class_names:
        raise FormatError(
            f"validation scores name other classes than the test scores in {test.paths[0]}", path=val.paths[0]
        )
    for key in ("modality", "model"):
        test_names = test.modalities if key == "modality" else test.models
        val_names = val.modalities if key == "modality" else val.models
        if not all(None not in n and len(set(n)) == len(n) for n in (test_names, val_names)):
            continue
        if set(test_names) != set(val_names):
            listed = ", ".join(map(str, val_names)), ", ".join(map(str, test_names))
            raise ConfigError(f"validation streams ({listed[0]}) differ from the test streams ({listed[1]})")
        return val.reordered([val_names.index(m) for m in test_names]), None
    return (
        val,
        "validation files are matched to test files by position (not every file records a distinct "
        "modality or model)",
    )


def check_validation_only(test: Streams, val: Streams) -> None:
    """Refuse anything that would let test labels choose the weights."""
    if val.split is not None and (
        val.split == "test" or (test.split is not None and val.split == test.split)
    ):
        raise ConfigError(
            f"the validation score files hold the {val.split!r} split; weights must be searched on "
            "validation scores only",
            hint="run `skelact test ... --data.test_split val` to write validation scores",
        )
    shared = np.intersect1d(test.sample_ids.astype(str), val.sample_ids.astype(str))
    if len(shared):
        raise ConfigError(
            f"validation and test score files share {len(shared)} samples (e.g. {str(shared[0])!r}); "
            "weights searched on them would see test labels",
            hint="validation scores must come from a split disjoint from the test split",
        )
    if (val.labels < 0).any():
        raise ConfigError(f"{int((val.labels < 0).sum())} validation samples have no label")


@dataclass
class SearchResult:
    """Weights chosen on validation scores and what they scored there."""

    weights: list[float]
    top1: float
    mean_class_accuracy: float
    evaluated: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "val_top1": self.top1,
            "val_mean_class_accuracy": self.mean_class_accuracy,
            "evaluated": self.evaluated,
            "method": self.method,
        }


def search_weights(scores: np.ndarray, labels: np.ndarray, max_weight: int = 4) -> SearchResult:
    """Integer weights in 0..max_weight per stream that maximise validation top-1.

    Only the arguments are read: call it with validation scores and labels. Ties (frequent on small
    validation sets) go to the higher mean class accuracy, then to the weights closest to equal ones, then to
    the first in enumeration order, so the result is deterministic. Weight vectors are primitive (gcd 1): 2:2
    and 1:1 fuse identically, and only 1:1 is tried. Up to `MAX_GRID_SIZE` vectors the grid is exhaustive,
    beyond it coordinate ascent from equal weights.
    """
    if max_weight < 1:
        raise ConfigError(f"max weight must be at least 1, got {max_weight}")
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0 or (labels < 0).any():
        raise ConfigError("weight search needs labelled validation samples")
    num_streams = scores.shape[0]
    if (max_weight + 1) ** num_streams <= MAX_GRID_SIZE:
        grid = np.array(
            [w for w in itertools.product(range(max_weight + 1), repeat=num_streams) if math.gcd(*w) == 1],
            dtype=np.float64,
        )
        return _best(grid, _grid_scores(scores, labels, grid), "grid")
    return _coordinate_ascent(scores, labels, max_weight)


def _coordinate_ascent(scores: np.ndarray, labels: np.ndarray, max_weight: int) -> SearchResult:
    current = np.ones(scores.shape[0])
    evaluated = 0
    for _ in range(20):  # converges in a few rounds; the cap only guards against a cycle of exact ties
        changed = False
        for s in range(scores.shape[0]):
            grid = np.repeat(current[None], max_weight + 1, axis=0)
            grid[:, s] = np.arange(max_weight + 1)
            grid = grid[grid.sum(1) > 0]
            found = _best(grid, _grid_scores(scores, labels, grid), "coordinate")
            evaluated += len(grid)
            if not np.array_equal(found.weights, current):
                current, changed = np.asarray(found.weights), True
        if not changed:
            break
    top1, mca = _grid_scores(scores, labels, current[None])
    return SearchResult([float(w) for w in current], float(top1[0]), float(mca[0]), evaluated, "coordinate")


def _grid_scores(scores: np.ndarray, labels: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validation top-1 and mean class accuracy of every weight vector in `grid` (G, S), vectorised."""
    num_streams, n, k = scores.shape
    flat = scores.reshape(num_streams, n * k)
    onehot = np.eye(k)[labels]  # (N, K)
    support = onehot.sum(0)
    present = support > 0
    top1, mca = np.empty(len(grid)), np.empty(len(grid))
    chunk = max(1, int(2**25 // max(n * k, 1)))  # about 256 MB of float64 fused scores at a time
    for start in range(0, len(grid), chunk):
        w = grid[start : start + chunk]
        fused = (w / w.sum(1, keepdims=True)) @ flat
        correct = (fused.reshape(len(w), n, k).argmax(-1) == labels).astype(np.float64)
        top1[start : start + chunk] = correct.mean(1)
        mca[start : start + chunk] = ((correct @ onehot)[:, present] / support[present]).mean(1)
    return top1, mca


def _best(grid: np.ndarray, found: tuple[np.ndarray, np.ndarray], method: str) -> SearchResult:
    top1, mca = found
    share = grid / grid.sum(1, keepdims=True)
    spread = np.linalg.norm(share - 1.0 / grid.shape[1], axis=1)
    # np.lexsort sorts by the last key first; rounding makes float ties exact ties.
    order = np.lexsort((np.arange(len(grid)), spread.round(12), -mca.round(12), -top1.round(12)))
    best = int(order[0])
    return SearchResult(
        [float(w) for w in grid[best]], float(top1[best]), float(mca[best]), len(grid), method
    )
