"""Options shared by the recipes that read other toolboxes' array files (pyskl, ctrgcn-npz, agcn).

These files carry joint arrays and integer labels but no layout name and (mostly) no class names, so the
recipes infer the layout from the joint count, read class names from an optional text file, and otherwise
name classes by number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.errors import ConfigError, FormatError
from skelact.options import Options, option
from skelact.skeleton import get_layout, list_layouts

#: Layouts that hold 2D keypoints: a third channel in their array files is a confidence score.
LAYOUTS_2D = frozenset({"coco17", "openpose18", "jhmdb15"})


def layout_for_joints(num_joints: int, override: str | None = None) -> str:
    """`override` (checked against `num_joints`), else the one registered layout with that many joints."""
    if override:
        layout = get_layout(override)
        if layout.num_joints != num_joints:
            raise ConfigError(
                f"`layout` {override} has {layout.num_joints} joints but the data has {num_joints}"
            )
        return layout.name
    matches = [name for name in list_layouts() if get_layout(name).num_joints == num_joints]
    if len(matches) != 1:
        known = ", ".join(f"{n} ({get_layout(n).num_joints})" for n in list_layouts())
        reason = "no layout" if not matches else f"several layouts ({', '.join(matches)})"
        raise ConfigError(
            f"{reason} with {num_joints} joints", hint=f"pass `layout` NAME; known layouts: {known}"
        )
    return matches[0]


def read_class_names(path: str | Path) -> list[str]:
    """One class name per line (blank lines ignored), in label order."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError(f"cannot read class names from {path}: {err.strerror}") from None
    names = [line.strip() for line in lines if line.strip()]
    if not names:
        raise ConfigError(f"{path} holds no class names")
    return names


def ntu_class_names() -> tuple[str, ...]:
    """The 120 NTU action names (label i = action i + 1), from the NTU recipe's table when it is installed."""
    try:
        from skelact.data.prepare.ntu_classes import NTU120_CLASS_NAMES
    except ModuleNotFoundError:  # the NTU recipe is optional here: fall back to action codes A001...
        return ()
    return tuple(NTU120_CLASS_NAMES)


def class_names(
    names_file: str | Path | None,
    *,
    num_classes: int | None = None,
    min_classes: int | None = None,
    fallback: Sequence[str] | None = None,
    ntu: bool = False,
) -> list[str]:
    """Names from `names_file`, else `fallback`, else NTU's action names (`ntu`, labels = action - 1) or
    numbered ``class_000``...

    `num_classes` fixes the count; `min_classes` (largest label + 1 in the data) is a
    lower bound. Generated names use `num_classes`, else `min_classes`.
    """
    if names_file is not None:
        names = read_class_names(names_file)
    elif fallback is not None:
        names = list(fallback)
    else:
        count = num_classes or min_classes
        if count is None:
            raise ConfigError(
                "the number of classes is unknown", hint="pass `num_classes` N or `class_names` FILE"
            )
        known = ntu_class_names() if ntu else ()
        if count <= len(known):
            names = list(known[:count])
        elif ntu:
            names = [f"A{i + 1:03d}" for i in range(count)]  # NTU action codes are 1-based
        else:
            names = [f"class_{i:0{max(3, len(str(count)))}d}" for i in range(count)]
    if num_classes is not None and len(names) != num_classes:
        raise ConfigError(f"{len(names)} class names given but `num_classes` is {num_classes}")
    if min_classes is not None and len(names) < min_classes:
        raise ConfigError(f"{len(names)} classes, but the data has labels up to {min_classes - 1}")
    return names


#: Where label number i sits: (file, place in it), for the message about a stray label.
LabelPlace = Callable[[int], tuple[str | Path, str]]


def check_inferred_classes(
    labels: Sequence[int] | np.ndarray, place: LabelPlace, *, has_num_classes: bool = True
) -> None:
    """When the class count is inferred as the largest label + 1, every class below must hold a sample.

    One stray label (999 in a 60-class file) would otherwise create hundreds of empty classes and a model
    with as many outputs; a user whose classes really have no sample says so with `num_classes` or
    `class_names`, and the recipes skip this check then (and for NTU files, whose class list is known).
    """
    values = np.asarray(labels, dtype=np.int64)
    if values.size == 0 or values.max() < 0:
        return  # negative labels are reported, with their place, when the samples are parsed
    count = int(values.max()) + 1
    empty = count - np.unique(values[values >= 0]).size
    if empty:
        path, where = place(int(np.argmax(values)))
        raise FormatError(
            f"label {count - 1} makes {count} classes, {empty} of which have no sample",
            path=path,
            where=where,
            hint=f"fix the label, or pass {f'`num_classes` {count} or ' if has_num_classes else ''}"
            "`class_names` FILE if those classes really have no sample here",
        )


def layout_option(default_help: str) -> Any:
    """The ``layout`` field, with what its default means for the recipe."""
    return option(f"skeleton layout name ({default_help})", None)


@dataclass(frozen=True, kw_only=True)
class LayoutOptions(Options):
    """A layout override for files that do not name theirs (checked against the data's joint count)."""

    layout: str | None = layout_option("default: from the joint count")


@dataclass(frozen=True, kw_only=True)
class ClassNamesOptions(Options):
    """Class names from a text file, for files that carry only integer labels."""

    class_names: Path | None = option("text file with one class name per line, in label order", None)


@dataclass(frozen=True, kw_only=True)
class ClassCountOptions(ClassNamesOptions):
    """Class names and, when the labels do not reach the last class, the number of classes."""

    num_classes: int | None = option("number of classes (default: from the file's labels)", None)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_classes is not None and self.num_classes < 1:
            raise ConfigError(f"`num_classes` must be at least 1, got {self.num_classes}")
