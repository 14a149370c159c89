"""Run a `PrepareJob`: parse items over processes, split, carve validation, write the store atomically.

Every input item ends in exactly one of three places, and all three are reported and kept in the store's
provenance: written (it gave samples), skipped (the recipe says it has no sample, e.g. NTU's official
missing-skeleton list) or bad (a `FormatError`; only with ``skip_bad``, otherwise the run stops on it).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.carve_report import carve_lines, describe_carve
from skelact.data.prepare.job import PrepareJob, SampleTable
from skelact.data.prepare.options import RunOptions
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.data.splits import carve_validation
from skelact.data.store import write_store
from skelact.errors import ConfigError, FormatError, SkelactError

MAX_LISTED = 1000  # skipped/bad entries kept in provenance; the counts are always complete


@dataclass
class PrepareSummary:
    """What a preparation run did, for the closing summary and for tests."""

    store: Path
    items: int = 0
    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    class_names: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The closing summary the CLI prints: counts, splits, and the first skipped and bad inputs."""
        lines = [
            f"wrote {self.store}: {self.written} samples from {self.items} inputs in {self.seconds:.1f} s; "
            f"skipped {len(self.skipped)}, bad {len(self.bad)}",
            "splits: " + ", ".join(f"{name} {count}" for name, count in self.splits.items()),
        ]
        for split, report in self.validation.get("carves", {}).items():
            lines += carve_lines(split, _val_name(split), report, self.class_names)
        for title, entries in (("skipped", self.skipped), ("bad", self.bad)):
            lines += [f"  {title}: {what}: {why}" for what, why in entries[:20]]
            if len(entries) > 20:
                lines.append(f"  ... {len(entries) - 20} more {title} (all listed in the store's provenance)")
        return lines


def run_job(job: PrepareJob, options: RunOptions) -> PrepareSummary:
    """Prepare the store at ``options.out`` from `job`; return the summary. Nothing is written if anything
    fails."""
    start = time.perf_counter()
    summary = PrepareSummary(
        store=Path(options.out), items=len(job.items), class_names=[str(n) for n in job.class_names]
    )
    if summary.items == 0:
        raise ConfigError("nothing to prepare: the raw input holds no items", hint="check the `raw` path")
    ids: list[str] = []
    labels: list[int] = []
    metas: list[dict[str, Any]] = []

    def kept_samples() -> Iterator[SkeletonSample]:
        for item, outcome in _parse_all(job, options.workers, options.progress):
            kind, payload = outcome
            if kind == "skip":
                summary.skipped.append((job.describe(item), payload))
            elif kind == "bad":
                message, hint = payload
                if not options.skip_bad:
                    raise FormatError(
                        message, hint=hint or "fix the file, or pass `skip_bad` to list it and go on"
                    )
                summary.bad.append((job.describe(item), message))
            else:
                for sample in payload:
                    if not sample.sample_id:
                        raise FormatError("the reader gave a sample without an id", path=job.describe(item))
                    ids.append(sample.sample_id)
                    labels.append(int(sample.label))
                    metas.append(sample.meta)
                    yield sample

    def splits() -> dict[str, np.ndarray]:
        table = SampleTable(ids=ids, labels=np.asarray(labels, dtype=np.int64), meta=metas)
        official = {name: np.asarray(idx, dtype=np.int64) for name, idx in job.splits(table).items()}
        result, summary.validation = _with_validation(
            official, table, job.val_groups, options.val_fraction, options.seed, options.val_by
        )
        summary.splits = {name: int(idx.size) for name, idx in result.items()}
        return result

    def provenance() -> dict[str, Any]:
        return {
            **job.provenance,
            "items": summary.items,
            "written": len(ids),
            "skipped_count": len(summary.skipped),
            "skipped": [list(entry) for entry in summary.skipped[:MAX_LISTED]],
            "bad_count": len(summary.bad),
            "bad": [list(entry) for entry in summary.bad[:MAX_LISTED]],
            "validation": summary.validation,
        }

    write_store(
        options.out,
        kept_samples(),
        layout=job.layout,
        class_names=job.class_names,
        splits=splits,
        provenance=provenance,
        overwrite=options.overwrite,
        dtype=options.dtype,
    )
    summary.written = len(ids)
    summary.seconds = time.perf_counter() - start
    return summary


# ----------------------------------------------------------------------------------------------- parsing


def _guarded_parse(parse: Callable[[Any], Sequence[SkeletonSample]], item: Any) -> tuple[str, Any]:
    """Run in a worker: turn the three outcomes into picklable values; bugs in readers still raise."""
    try:
        return "ok", list(parse(item))
    except SkipItem as reason:
        return "skip", str(reason)
    except SkelactError as err:  # message and hint apart, so the hint is not repeated when re-raised
        return "bad", (err.args[0] if err.args else str(err), err.hint)
    except (OSError, UnicodeDecodeError, ValueError) as err:  # unreadable input the reader did not anticipate
        return "bad", (f"{item}: cannot read ({type(err).__name__}: {err})", None)


def _parse_all(job: PrepareJob, workers: int | None, progress: bool) -> Iterator[tuple[Any, tuple[str, Any]]]:
    parse = functools.partial(_guarded_parse, job.parse)
    n_workers = min(workers or os.cpu_count() or 1, len(job.items))
    with _progress_bar(len(job.items), progress) as advance:
        if not job.parallel or n_workers <= 1:
            for item in job.items:
                yield item, parse(item)
                advance()
            return
        chunksize = max(1, min(64, len(job.items) // (n_workers * 8)))
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            try:
                outcomes = pool.map(parse, job.items, chunksize=chunksize)
                for item, outcome in zip(job.items, outcomes, strict=True):
                    yield item, outcome
                    advance()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise


class _progress_bar:  # noqa: N801 - used as a context manager like a function
    """A rich progress bar (or nothing), yielding a callable that advances it by one item."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled and not os.environ.get("SKELACT_PLAIN_PROGRESS")
        self._progress: Any = None

    def __enter__(self) -> Callable[[], None]:
        if not self.enabled:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("parsing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        )
        self._progress.start()
        task = self._progress.add_task("parse", total=self.total)
        return functools.partial(self._progress.advance, task)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


# ----------------------------------------------------------------------------------------------- splits


def _with_validation(
    official: dict[str, np.ndarray],
    table: SampleTable,
    val_groups: str | None,
    fraction: float,
    seed: int,
    val_by: str = "auto",
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Give each ``<p>_train`` (or ``train``) a ``<p>_val``; keep the official set as ``<p>_train_full``.

    A protocol whose source already has a ``<p>_val`` split keeps it as it is. With `val_by` "auto",
    validation is carved by `val_groups` (subjects) when every sample has that key and the training split
    holds at least two groups, otherwise stratified by class; "class" always stratifies, "subject" requires
    the groups. The provenance records the rule and, under "carves", what each carve made.
    """
    if fraction == 0.0:
        return official, {"fraction": 0.0}
    result: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {"fraction": fraction, "seed": seed, "val_by": val_by, "by": {}, "carves": {}}
    groups = None if val_by == "class" else _group_column(table, val_groups)
    for name, indices in official.items():
        prefix = name[: -len("train")]
        is_train = name == "train" or name.endswith("_train")
        if not is_train or indices.size == 0 or f"{prefix}val" in official:
            result.setdefault(name, indices)
            if is_train and f"{prefix}val" in official:
                info["by"][name] = "source"  # the source defines its own validation split
                info["carves"][name] = describe_carve(
                    indices, official[f"{prefix}val"], labels=table.labels, groups=None, by="source"
                )
            continue
        use_groups = groups is not None and np.unique(groups[indices]).size >= 2
        if val_by == "subject" and not use_groups:
            raise ConfigError(
                f"`val_by` subject: the clips of split {name!r} do not name two or more subjects "
                f"({val_groups or 'subject'})",
                hint="give the labels a subject column, or carve with `val_by` class",
            )
        by = str(val_groups) if use_groups else "class"
        train, val = carve_validation(
            indices, labels=table.labels, groups=groups if use_groups else None, fraction=fraction, seed=seed
        )
        result[name] = train
        result[f"{prefix}val"] = val
        result[f"{prefix}train_full"] = indices
        info["by"][name] = by
        info["carves"][name] = describe_carve(
            train, val, labels=table.labels, groups=groups if use_groups else None, by=by
        )
    return result, info


def _val_name(train_split: str) -> str:
    """``xsub_train`` -> ``xsub_val``, ``train`` -> ``val``."""
    return train_split[: -len("train")] + "val"


def _group_column(table: SampleTable, key: str | None) -> np.ndarray | None:
    if key is None or not table.meta or any(key not in m for m in table.meta):
        return None
    return table.column(key)
