"""The labels CSV of "bring your own data": one row per clip file, with its label and optional metadata.

Columns (header required, names case-insensitive): ``file`` (path relative to the data folder), ``label``,
and optionally ``split``, ``subject``, ``view``, ``width`` and ``height`` (the video frame size in pixels,
stored as ``img_shape`` = (height, width) for ``normalize: image``), and ``video`` (the clip's video file,
relative to the data folder like ``file``, for the ``rgb`` modality: docs/rgb.md); any other column is
kept in each sample's meta as a string.

Labels are class names or 0-based integer class indices:
- with a class-names file (one name per line), a label must be one of its names, or, when every label in the
  CSV is a number, an index into it;
- without one, numeric labels (every label a number) give classes ``"0"`` .. ``"<max label>"``, and name
  labels give the sorted unique names (Python string order) as classes, so indices are reproducible.
- A number is an index whatever its spelling: ``1``, ``1.0`` and ``1e0`` are one class (spreadsheets and
  pandas write integers as floats); ``1.5`` is an error. Among name labels, two spellings of one number
  (``1`` and ``1.0``) are an error too, since they would become two classes.

Files are paths relative to the data folder and must stay inside it once ``..`` and symbolic links are
resolved; an absolute path is refused as well [design choice: sample ids are the relative paths, and a CSV
from elsewhere must not make `prepare` read arbitrary files]. All such rows are named in one error.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from skelact.errors import FormatError

REQUIRED_COLUMNS = ("file", "label")
KNOWN_COLUMNS = ("file", "label", "split", "subject", "view", "width", "height", "video")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")  # decimal text only: no nan, inf, 0x1
MAX_LISTED_OUTSIDE = 5
MAX_LABEL = 2**31  # checked before int(): "1e999999999" must not become a billion-digit integer
_SPLIT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")  # the store's split-name rule, lower case


@dataclass(frozen=True)
class ClipRow:
    """One labelled clip: where its file is, and what the CSV says about it."""

    file: str  # as written in the CSV (relative to the data folder)
    path: Path  # resolved file path
    line: int  # line of the CSV
    label: int
    sample_id: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClipLabels:
    """A parsed labels CSV: rows in file order, the class names, and how labels were read."""

    source: Path
    rows: list[ClipRow]
    class_names: list[str]
    label_mode: str  # "names" or "indices"
    columns: list[str]

    @property
    def has_split(self) -> bool:
        return "split" in self.columns

    @property
    def has_subject(self) -> bool:
        return "subject" in self.columns

    def split_names(self) -> list[str]:
        """Split names in order of first appearance."""
        return list(dict.fromkeys(row.meta["split"] for row in self.rows)) if self.has_split else []


def read_class_names(path: str | os.PathLike[str]) -> list[str]:
    """One class name per line; blank lines and lines starting with '#' are ignored; names must be unique."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise FormatError("class-names file does not exist", path=path) from None
    except (OSError, UnicodeDecodeError) as err:
        raise FormatError(f"cannot read class-names file ({err})", path=path) from None
    names: list[str] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        name = raw.strip()
        if not name or name.startswith("#"):
            continue
        if name in first_line:
            raise FormatError(
                f"class {name!r} is listed twice (first on line {first_line[name]})",
                path=path,
                where=f"line {number}",
            )
        first_line[name] = number
        names.append(name)
    if not names:
        raise FormatError("no class names (expected one name per line)", path=path)
    return names


def read_clip_labels(
    csv_path: str | os.PathLike[str],
    root: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
) -> ClipLabels:
    """Parse the labels CSV; file paths resolve against `root`. Raises one `FormatError` per problem."""
    csv_path, root = Path(csv_path), Path(root)
    header, records = _read_csv(csv_path)
    if not records:
        raise FormatError("no clips listed (the CSV has a header but no rows)", path=csv_path)
    labels_text = [record["label"] for _, record in records]
    numeric_labels = all(_NUMBER.match(label) for label in labels_text)
    names, label_of = _resolve_labels(csv_path, records, class_names, numeric_labels)
    _refuse_outside(csv_path, root, records)
    if "video" in header:
        _refuse_outside(csv_path, root, records, column="video")
        _refuse_missing_videos(csv_path, root, records)
    typed = {c: _typed_column([r[c] for _, r in records]) for c in ("subject", "view") if c in header}

    rows: list[ClipRow] = []
    first_file: dict[str, int] = {}
    first_id: dict[str, int] = {}
    for position, (line, record) in enumerate(records):
        file = record["file"]
        key = os.path.normpath(file)
        if key in first_file:
            raise FormatError(
                f"file {file!r} is listed twice (first on line {first_file[key]})",
                path=csv_path,
                where=f"line {line}",
            )
        first_file[key] = line
        sample_id = _sample_id(file)
        if sample_id in first_id:
            raise FormatError(
                f"file {file!r} gives sample id {sample_id!r}, already used by line {first_id[sample_id]}",
                path=csv_path,
                where=f"line {line}",
                hint="sample ids are the file paths without extension; rename one of the files",
            )
        first_id[sample_id] = line
        meta: dict[str, Any] = {"source": file}
        if "width" in header:
            meta["img_shape"] = [
                _pixels(record, "height", csv_path, line),
                _pixels(record, "width", csv_path, line),
            ]
        for column in header:
            if column in ("file", "label", "width", "height"):
                continue
            if column in typed:
                meta[column] = typed[column][position]
            elif column == "split":
                meta["split"] = _split_name(record["split"], csv_path, line)
            else:
                meta[column] = record[column]
        rows.append(
            ClipRow(
                file=file,
                path=root / file,
                line=line,
                label=label_of[record["label"]],
                sample_id=sample_id,
                meta=meta,
            )
        )
    return ClipLabels(
        source=csv_path,
        rows=rows,
        class_names=names,
        label_mode="indices" if numeric_labels else "names",
        columns=header,
    )


# ----------------------------------------------------------------------------------------------- helpers


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header (lower-cased, stripped) and (line, record) pairs; blank lines are skipped."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header_row = next(reader, None)
            if header_row is None:
                raise FormatError("the labels CSV is empty (expected a header: file,label,...)", path=path)
            header = [column.strip().lower() for column in header_row]
            _check_header(path, header)
            records = []
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                line = reader.line_num
                if len(values) != len(header):
                    raise FormatError(
                        f"expected {len(header)} fields ({','.join(header)}), got {len(values)}",
                        path=path,
                        where=f"line {line}",
                    )
                record = {column: value.strip() for column, value in zip(header, values, strict=True)}
                for column in KNOWN_COLUMNS:
                    if column in record and not record[column]:
                        raise FormatError(f"empty {column!r}", path=path, where=f"line {line}")
                records.append((line, record))
    except FileNotFoundError:
        raise FormatError(
            "labels CSV does not exist", path=path, hint="pass --labels FILE (default: RAW/labels.csv)"
        ) from None
    except (csv.Error, UnicodeDecodeError) as err:
        raise FormatError(f"not a readable CSV file ({err})", path=path) from None
    return header, records


def _check_header(path: Path, header: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FormatError(
            f"missing column {missing[0]!r}: the header has {', '.join(repr(c) for c in header)}",
            path=path,
            where="line 1",
            hint="the first line must name the columns, at least: file,label",
        )
    if "" in header:
        raise FormatError(f"column {header.index('') + 1} has no name", path=path, where="line 1")
    duplicate = next((c for c in header if header.count(c) > 1), None)
    if duplicate:
        raise FormatError(f"column {duplicate!r} appears twice", path=path, where="line 1")
    if ("width" in header) != ("height" in header):
        raise FormatError(
            "give both 'width' and 'height' (the frame size in pixels) or neither", path=path, where="line 1"
        )
    reserved = {"source": "each clip's file", "img_shape": "the frame size from width and height"}
    taken = next((c for c in header if c in reserved), None)
    if taken:
        raise FormatError(
            f"column {taken!r} is reserved (skelact records {reserved[taken]} there)",
            path=path,
            where="line 1",
            hint="rename the column",
        )


def _resolve_labels(
    path: Path,
    records: list[tuple[int, dict[str, str]]],
    class_names: Sequence[str] | None,
    numeric_labels: bool,
) -> tuple[list[str], dict[str, int]]:
    """Class names and the map from each label text in the CSV to its 0-based index."""
    texts = list(dict.fromkeys(record["label"] for _, record in records))
    if numeric_labels:
        values = _label_indices(path, records)
        count = len(class_names) if class_names is not None else max(values.values()) + 1
        for line, record in records:
            value = values[record["label"]]
            if value < 0:
                raise FormatError(
                    f"label {value} is negative (integer labels are 0-based class indices)",
                    path=path,
                    where=f"line {line}",
                )
            if value >= count:
                known = f"the {count} class names" if class_names is not None else "0-based class indices"
                raise FormatError(
                    f"label {value} outside 0..{count - 1}",
                    path=path,
                    where=f"line {line}",
                    hint=f"integer labels are {known}; 1-based labels must be shifted by -1",
                )
        names = list(class_names) if class_names is not None else [str(i) for i in range(count)]
        return names, values
    if class_names is None:
        _refuse_numeric_aliases(path, records)
        names = sorted(texts)
        return names, {name: i for i, name in enumerate(names)}
    index = {name: i for i, name in enumerate(class_names)}
    for line, record in records:
        if record["label"] not in index:
            shown = ", ".join(list(class_names)[:10]) + (", ..." if len(class_names) > 10 else "")
            raise FormatError(
                f"unknown label {record['label']!r} (not in the class-names file: {shown})",
                path=path,
                where=f"line {line}",
            )
    return list(class_names), index


def _label_indices(path: Path, records: list[tuple[int, dict[str, str]]]) -> dict[str, int]:
    """Each numeric label text -> its integer value; a fractional value is an error naming its line."""
    values: dict[str, int] = {}
    for line, record in records:
        text = record["label"]
        if text in values:
            continue
        number = Decimal(text)
        if number != number.to_integral_value() or abs(number) >= MAX_LABEL:
            what = "a whole number" if abs(number) < MAX_LABEL else f"below {MAX_LABEL}"
            raise FormatError(
                f"label {text!r} is not {what} (numeric labels are 0-based class indices)",
                path=path,
                where=f"line {line}",
            )
        values[text] = int(number)
    return values


def _refuse_numeric_aliases(path: Path, records: list[tuple[int, dict[str, str]]]) -> None:
    """Name labels: ``1`` and ``1.0`` among them would silently become two classes."""
    first: dict[Decimal, tuple[str, int]] = {}
    for line, record in records:
        text = record["label"]
        if not _NUMBER.match(text):
            continue
        seen_text, seen_line = first.setdefault(Decimal(text).normalize(), (text, line))
        if seen_text != text:
            raise FormatError(
                f"label {text!r} and label {seen_text!r} (line {seen_line}) are the same number but would "
                "be two classes",
                path=path,
                where=f"line {line}",
                hint="write each class one way",
            )


def _refuse_missing_videos(path: Path, root: Path, records: list[tuple[int, dict[str, str]]]) -> None:
    """A ``video`` column names existing files: a missing one fails now, not in the first training batch."""
    missing = [(line, record["video"]) for line, record in records if not (root / record["video"]).is_file()]
    if missing:
        shown = ", ".join(f"line {line} {video!r}" for line, video in missing[:MAX_LISTED_OUTSIDE])
        raise FormatError(
            f"{len(missing)} video file(s) do not exist under {root}: {shown}",
            path=path,
            where=f"line {missing[0][0]}",
            hint="the video column takes paths relative to the data folder (--raw)",
        )


def _refuse_outside(
    path: Path, root: Path, records: list[tuple[int, dict[str, str]]], column: str = "file"
) -> None:
    """Every listed file must resolve (``..`` and symbolic links followed) inside `root`."""
    base = root.resolve()
    outside: list[tuple[int, str, Path]] = []
    for line, record in records:
        file = record[column]
        target = (root / file).resolve()
        if os.path.isabs(file) or not target.is_relative_to(base):
            outside.append((line, file, target))
    if not outside:
        return
    shown = ", ".join(
        f"line {line} {file!r}" + ("" if str(target) == file else f" (-> {target})")
        for line, file, target in outside[:MAX_LISTED_OUTSIDE]
    )
    more = f" and {len(outside) - MAX_LISTED_OUTSIDE} more" if len(outside) > MAX_LISTED_OUTSIDE else ""
    count = f"{len(outside)} file{'s lie' if len(outside) > 1 else ' lies'}"
    raise FormatError(
        f"{count} outside the data folder {base}: {shown}{more}",
        path=path,
        where=f"line {outside[0][0]}",
        hint="list paths relative to the data folder (--raw), without '..', absolute paths or outward links",
    )


def _typed_column(values: list[str]) -> list[Any]:
    """Integers when every value is an integer, else the strings (subject ids may be names)."""
    if all(_INTEGER.match(v) for v in values):
        return [int(v) for v in values]
    return list(values)


def _pixels(record: dict[str, str], column: str, path: Path, line: int) -> int:
    value = record[column]
    if not _INTEGER.match(value) or int(value) <= 0:
        raise FormatError(
            f"{column} {value!r} is not a positive whole number of pixels", path=path, where=f"line {line}"
        )
    return int(value)


def _split_name(value: str, path: Path, line: int) -> str:
    name = value.lower()
    if not _SPLIT_NAME.match(name):
        raise FormatError(
            f"split {value!r} is not a valid split name",
            path=path,
            where=f"line {line}",
            hint="use letters, digits, '_', '.', '+' or '-', e.g. train, val, test",
        )
    return name


def _sample_id(file: str) -> str:
    """The clip's path relative to the data folder, with '/' separators and without its extension."""
    pure = PurePosixPath(os.path.normpath(file).replace(os.sep, "/"))
    return str(pure.with_suffix("")) if pure.suffix else str(pure)
