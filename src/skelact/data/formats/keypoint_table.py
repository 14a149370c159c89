"""Per-frame keypoint tables, one file per clip, as pose estimators export them (CSV or JSON).

One row per detected keypoint: ``frame``, ``person`` (optional; all rows are person 0 without it), ``joint``
(a 0-based index or a joint name of the layout), ``x``, ``y``, optional ``z`` and optional ``score`` (a
confidence in [0, 1]; a value outside is an error naming the row). Column names are case-insensitive; other
columns are ignored. JSON files hold either a list of row objects
(``[{"frame": 0, "joint": "nose", "x": 1.0, "y": 2.0}, ...]``) or a column table
(``{"columns": ["frame", "joint", "x", "y"], "rows": [[0, "nose", 1.0, 2.0], ...]}``).

The clip becomes (M, T, V, C): frames run contiguously from the smallest to the largest frame number (frames
without rows are all-zero), a (frame, person, joint) without a row is zero, and persons are ordered by how
many keypoints they have (most first, ties by first appearance), so a training run that keeps the first
`max_persons` keeps the main actors. Parsing is vectorised: the table is turned into columns once and
scattered into the array with one indexed assignment.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.registry import ClipRequest, register_format
from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError
from skelact.skeleton.layout import Layout, get_layout

TABLE_SUFFIXES = (".csv", ".json")
REQUIRED = ("frame", "joint", "x", "y")
OPTIONAL = ("person", "z", "score")
MAX_VALUES = 1 << 27  # 512 MiB of float32: a larger clip almost surely comes from a wrong frame number

Locate = Callable[[int], str]


def read_table_clip(path: Path, request: ClipRequest) -> SkeletonSample:
    """One table as a clip, for prediction: its joint names are looked up in the request's layout."""
    return read_keypoint_table(path, request.layout)


@register_format(
    "keypoint-table",
    description="your own keypoints: one CSV/JSON table per clip (frame, person, joint, x, y[, z][, score])",
    suffixes=TABLE_SUFFIXES,
    read_clip=read_table_clip,
)
def read_keypoint_table(
    path: str | os.PathLike[str],
    layout: Layout | str,
    *,
    label: int = -1,
    sample_id: str | None = None,
    meta: dict[str, Any] | None = None,
    listed_at: str | None = None,
) -> SkeletonSample:
    """Read one clip's table into a sample whose joints follow `layout`."""
    path = Path(path)
    lay = get_layout(layout)
    suffix = f" (listed in {listed_at})" if listed_at else ""
    columns, locate = read_table_columns(path, suffix=suffix)

    # Advice goes into the message, not a hint: the runner re-wraps a worker's error with its own hint.
    def fail(message: str, row: int | None = None) -> FormatError:
        return FormatError(message + suffix, path=path, where=None if row is None else locate(row))

    frame = _numbers(columns["frame"], "frame", fail)
    fractional = np.flatnonzero(frame != np.round(frame))
    if fractional.size:
        raise fail(f"frame {frame[fractional[0]]} is not a whole number", int(fractional[0]))
    frame = frame.astype(np.int64)
    t = frame - frame.min()
    num_frames = int(t.max()) + 1
    slot, person_ids = _person_slots(columns.get("person"), frame.size)
    joint = _joint_indices(columns["joint"], lay, fail)
    coords = [_numbers(columns[name], name, fail) for name in ("x", "y", "z") if name in columns]
    num_persons, num_joints, num_coords = len(person_ids), lay.num_joints, len(coords)
    if num_persons * num_frames * num_joints * num_coords > MAX_VALUES:
        raise fail(
            f"frame numbers run from {frame.min()} to {frame.max()} ({num_frames} frames, {num_persons} "
            "persons): too large for one clip; each table must hold one clip"
        )
    flat = (slot * num_frames + t) * num_joints + joint
    _refuse_duplicates(flat, frame, person_ids, slot, joint, lay, fail, locate)
    keypoint = np.zeros((num_persons * num_frames * num_joints, num_coords), dtype=np.float32)
    keypoint[flat] = np.stack(coords, axis=1)
    score = None
    if "score" in columns:
        score = np.zeros(num_persons * num_frames * num_joints, dtype=np.float32)
        score[flat] = _confidences(columns["score"], fail)
        score = score.reshape(num_persons, num_frames, num_joints)
    sample_meta = {"source": str(path), **(meta or {})}
    sample_meta["first_frame"] = int(frame.min())
    sample_meta["person_ids"] = person_ids
    return SkeletonSample(
        keypoint=keypoint.reshape(num_persons, num_frames, num_joints, num_coords),
        label=label,
        score=score,
        meta=sample_meta,
        sample_id=sample_id if sample_id is not None else path.stem,
    ).validate(num_joints=num_joints, source=path)


def read_table_columns(path: Path, *, suffix: str = "") -> tuple[dict[str, np.ndarray], Locate]:
    """The table's known columns as 1-D arrays (lower-case names) and a function naming row i's place."""
    kind = path.suffix.lower()
    if kind not in TABLE_SUFFIXES:
        raise FormatError(f"expected a .csv or .json keypoint table{suffix}", path=path)
    try:
        if kind == ".csv":
            names, table, locate = _read_csv(path, suffix)
        else:
            names, table, locate = _read_json(path, suffix)
    except FileNotFoundError:
        raise FormatError(
            f"file does not exist (paths in the labels CSV are relative to --raw){suffix}", path=path
        ) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise FormatError(f"cannot read the table{suffix} ({err})", path=path) from None
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FormatError(
            f"missing column {missing[0]!r}{suffix}; found {', '.join(repr(n) for n in names)} (columns: "
            "frame, person (optional), joint, x, y, z (optional), score (optional))",
            path=path,
            where="header",
        )
    duplicate = next((n for n in names if n in (*REQUIRED, *OPTIONAL) and names.count(n) > 1), None)
    if duplicate:
        raise FormatError(f"column {duplicate!r} appears twice{suffix}", path=path, where="header")
    if table.shape[0] == 0:
        raise FormatError(f"empty sequence: the table has no rows{suffix}", path=path)
    columns = {n: table[:, i] for i, n in enumerate(names) if n in (*REQUIRED, *OPTIONAL)}
    return columns, locate


# ----------------------------------------------------------------------------------------------- parsing


def _read_csv(path: Path, suffix: str) -> tuple[list[str], np.ndarray, Locate]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        rows = list(reader)
    if header is None:
        raise FormatError(f"empty file: expected a header line{suffix}", path=path)
    names = [h.strip().lower() for h in header]
    width = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    wrong = np.flatnonzero((width != len(names)) & (width > 0))  # blank lines are allowed and skipped
    if wrong.size:
        i = int(wrong[0])
        raise FormatError(
            f"expected {len(names)} fields ({','.join(names)}), got {width[i]}{suffix}",
            path=path,
            where=f"line {i + 2}",
        )
    kept = width > 0
    lines = np.flatnonzero(kept) + 2  # line 1 is the header; assumes no newlines inside quoted fields
    table = np.array(list(itertools.compress(rows, kept)), dtype=str).reshape(-1, len(names))
    return names, table, lambda i: f"line {lines[i]}"


def _read_json(path: Path, suffix: str) -> tuple[list[str], np.ndarray, Locate]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as err:
        raise FormatError(f"invalid JSON: {err.msg}{suffix}", path=path, where=f"line {err.lineno}") from None

    def locate(i: int) -> str:
        return f"row {i} (counting from 0)"

    if isinstance(data, dict) and set(data) >= {"columns", "rows"}:
        names, rows = data["columns"], data["rows"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise FormatError(f"'columns' must be a list of names{suffix}", path=path, where="columns")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise FormatError(f"'rows' must be a list of lists{suffix}", path=path, where="rows")
        width = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        wrong = np.flatnonzero(width != len(names))
        if wrong.size:
            i = int(wrong[0])
            raise FormatError(
                f"expected {len(names)} values ({', '.join(names)}), got {width[i]}{suffix}",
                path=path,
                where=locate(i),
            )
        table = np.empty((len(rows), len(names)), dtype=object)
        if rows:
            table[:] = rows
        return [n.strip().lower() for n in names], table, locate
    if isinstance(data, list):
        not_object = next((i for i, r in enumerate(data) if not isinstance(r, dict)), None)
        if not_object is not None:
            raise FormatError(f"expected a row object{suffix}", path=path, where=locate(not_object))
        if not data:
            return list(REQUIRED), np.empty((0, len(REQUIRED)), dtype=object), locate
        keys = {k.strip().lower(): k for k in data[0]}  # the first row fixes which optional columns exist
        names = [n for n in (*REQUIRED, *OPTIONAL) if n in keys]
        table = np.empty((len(data), len(names)), dtype=object)
        missing = object()
        for c, name in enumerate(names):
            key = keys[name]
            column = [row.get(key, missing) for row in data]
            gap = next((i for i, v in enumerate(column) if v is missing), None)
            if gap is not None:
                raise FormatError(
                    f"no {name!r} value (the first row has one, so every row needs one){suffix}",
                    path=path,
                    where=locate(gap),
                )
            table[:, c] = column
        return names, table, locate
    raise FormatError(
        f"expected a list of row objects or {{'columns': [...], 'rows': [[...]]}}{suffix}", path=path
    )


# ----------------------------------------------------------------------------------------------- columns


def _numbers(values: np.ndarray, name: str, fail: Callable[..., FormatError]) -> np.ndarray:
    try:
        out = values.astype(np.float64)
    except (ValueError, TypeError):
        out = None
    if out is None or values.dtype == object:
        bad = _first_non_number(values)
        if bad is not None:
            value = values[bad : bad + 1].tolist()[0]  # a plain Python value, for a readable repr
            shown = "empty" if value in ("", None) else repr(value)
            raise fail(f"{name} is {shown}, expected a number", bad)
    if out is None:  # pragma: no cover - every failing astype has a value _first_non_number finds
        raise fail(f"{name} column is not numeric")
    infinite = np.flatnonzero(~np.isfinite(out))
    if infinite.size:
        raise fail(
            f"{name} is {out[infinite[0]]}, expected a finite number (leave a missing keypoint out instead)",
            int(infinite[0]),
        )
    return out


def _confidences(values: np.ndarray, fail: Callable[..., FormatError]) -> np.ndarray:
    """Scores must be confidences in [0, 1]: a 5 or -3 (a shifted column, percentages, logits) would
    otherwise become a silently wrong input channel."""
    score = _numbers(values, "score", fail)
    outside = np.flatnonzero((score < 0.0) | (score > 1.0))
    if outside.size:
        raise fail(
            f"score {score[outside[0]]:g} is outside [0, 1] ({outside.size} such rows); keypoint scores are "
            "confidences: rescale percentages (/ 100) or pass the estimator's probabilities",
            int(outside[0]),
        )
    return score


def _first_non_number(values: np.ndarray) -> int | None:
    """The first value float() refuses; JSON booleans and nulls count as bad (numpy would take them)."""
    for i, value in enumerate(values.tolist()):
        if value is None or isinstance(value, bool):
            return i
        try:
            float(value)
        except (TypeError, ValueError):
            return i
    return None


def _as_text(values: np.ndarray) -> np.ndarray:
    """Person and joint ids as stripped strings; JSON integers 1 and 1.0 both become '1'."""
    if values.dtype == object:
        values = np.asarray(
            [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in values.tolist()]
        )
    return np.char.strip(values.astype(str))


def _person_slots(values: np.ndarray | None, n: int) -> tuple[np.ndarray, list[str]]:
    """Slot of each row's person (most keypoints first, ties by first appearance) and ids in slot order."""
    if values is None:
        return np.zeros(n, dtype=np.int64), ["0"]
    ids, first, inverse, counts = np.unique(
        _as_text(values), return_index=True, return_inverse=True, return_counts=True
    )
    order = np.lexsort((first, -counts))
    slot_of = np.empty(ids.size, dtype=np.int64)
    slot_of[order] = np.arange(ids.size)
    return slot_of[inverse.reshape(-1)], [str(ids[i]) for i in order]


def _joint_indices(values: np.ndarray, layout: Layout, fail: Callable[..., FormatError]) -> np.ndarray:
    """Joint names of the layout or 0-based indices; only the distinct values are looked up in Python."""
    text = _as_text(values)
    uniq, first, inverse = np.unique(text, return_index=True, return_inverse=True)
    by_name = {name: i for i, name in enumerate(layout.joint_names)}
    lookup = np.empty(uniq.size, dtype=np.int64)
    for k, value in enumerate(uniq.tolist()):
        if value in by_name:
            lookup[k] = by_name[value]
        elif value.lstrip("+-").isdigit() and 0 <= int(value) < layout.num_joints:
            lookup[k] = int(value)
        else:
            what = "index" if value.lstrip("+-").isdigit() else "name"
            raise fail(
                f"joint {value!r} is not a joint {what} of layout {layout.name!r} "
                f"(indices 0..{layout.num_joints - 1}, names such as {', '.join(layout.joint_names[:3])})",
                int(first[k]),
            )
    return lookup[inverse.reshape(-1)]


def _refuse_duplicates(
    flat: np.ndarray,
    frame: np.ndarray,
    person_ids: list[str],
    slot: np.ndarray,
    joint: np.ndarray,
    layout: Layout,
    fail: Callable[..., FormatError],
    locate: Locate,
) -> None:
    order = np.argsort(flat, kind="stable")
    repeated = np.flatnonzero(flat[order][1:] == flat[order][:-1])
    if repeated.size:
        first, second = int(order[repeated[0]]), int(order[repeated[0] + 1])
        raise fail(
            f"frame {frame[second]}, person {person_ids[slot[second]]}, joint "
            f"{layout.joint_names[joint[second]]!r} appears twice (also at {locate(first)})",
            second,
        )
