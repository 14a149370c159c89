"""Layouts declared by users in a JSON or YAML file, so a new skeleton needs no Python code.

The file holds the `Layout` fields. Joints may be referred to by index or by name everywhere (parents, edges,
centre, left/right pairs, parts, spine, shoulders), because names are what people read and indices are what
they get wrong. `parents` may also be a mapping ``joint: parent`` covering every joint. Optional fields:
``edges`` (default: the bones, without the root's self-loop), ``center`` (default: the first root),
``left_right``, ``parts``, ``part_bones`` (per part, [child, parent] pairs given by joint name or by
position in the part's list), ``regions`` (SkeletonMAE's six body regions, a partition of the joints),
``spine``, ``shoulders``, ``description``. Unknown keys are errors, so a typo
never silently drops a field. A store records the layout inside itself (``Layout.to_dict``), so the file is
only needed when preparing data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from skelact.atomic import atomic_write
from skelact.errors import LayoutError
from skelact.skeleton.layout import Layout, get_layout, list_layouts

LAYOUT_FILE_SUFFIXES = (".json", ".yaml", ".yml")
_REQUIRED = ("name", "joint_names", "parents")
_OPTIONAL = (
    "edges", "center", "left_right", "parts", "part_bones", "regions", "spine", "shoulders", "description",
)  # fmt: skip


def load_layout(spec: str | os.PathLike[str] | Layout) -> Layout:
    """A registered layout name (``"coco17"``) or the path of a layout file (``my_skeleton.yaml``)."""
    if isinstance(spec, Layout):
        return spec
    path = Path(spec)
    text = str(spec)
    if path.suffix.lower() in LAYOUT_FILE_SUFFIXES:
        return read_layout_file(path)
    if text in list_layouts():
        return get_layout(text)
    if path.is_file():
        return read_layout_file(path)  # explains the required suffix
    raise LayoutError(
        f"unknown layout {text!r}: neither a built-in layout name nor an existing layout file",
        hint=f"built-in layouts: {', '.join(list_layouts())}; or give a .json/.yaml layout file",
    )


def read_layout_file(path: str | os.PathLike[str]) -> Layout:
    """Parse and check one layout file; every problem raises a `LayoutError` naming the file and field."""
    path = Path(path)
    data = _read_mapping(path)
    layout = layout_from_mapping(data, source=str(path))
    _refuse_builtin_name_clash(layout, str(path))
    return layout


def layout_from_mapping(data: Mapping[str, Any], *, source: str = "layout") -> Layout:
    """Build a `Layout` from a file's mapping, resolving joint names to indices."""

    def fail(field: str, message: str) -> LayoutError:
        return LayoutError(f"{source}: field {field!r}: {message}")

    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        allowed = ", ".join((*_REQUIRED, *_OPTIONAL))
        raise LayoutError(f"{source}: unknown field {unknown[0]!r}", hint=f"layout fields are: {allowed}")
    for field in _REQUIRED:
        if field not in data:
            raise LayoutError(f"{source}: missing field {field!r}", hint="see docs/custom-data.md")

    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise fail("name", f"expected a non-empty string, got {name!r}")
    names = data["joint_names"]
    if not isinstance(names, list) or not names:
        raise fail("joint_names", "expected a non-empty list of joint names")
    for i, joint in enumerate(names):
        if not isinstance(joint, str) or not joint.strip():
            raise fail("joint_names", f"entry {i} is {joint!r}, expected a non-empty string")
    if len(set(names)) != len(names):
        duplicate = next(j for j in names if names.count(j) > 1)
        raise fail("joint_names", f"joint {duplicate!r} is listed twice")
    index = {joint: i for i, joint in enumerate(names)}

    def joint(field: str, value: Any) -> int:
        if isinstance(value, bool):
            raise fail(field, f"{value!r} is not a joint (give a joint name or a 0-based index)")
        if isinstance(value, int):
            if not 0 <= value < len(names):
                raise fail(field, f"joint index {value} outside 0..{len(names) - 1}")
            return value
        if isinstance(value, str) and value in index:
            return index[value]
        raise fail(field, f"unknown joint {value!r} (give a joint name from joint_names or a 0-based index)")

    def pairs(field: str, value: Any) -> tuple[tuple[int, int], ...]:
        if not isinstance(value, list):
            raise fail(field, "expected a list of [joint, joint] pairs")
        out = []
        for item in value:
            if not isinstance(item, list) or len(item) != 2:
                raise fail(field, f"{item!r} is not a [joint, joint] pair")
            out.append((joint(field, item[0]), joint(field, item[1])))
        return tuple(out)

    def optional_pair(field: str) -> tuple[int, int] | None:
        value = data.get(field)
        if value is None:
            return None
        if not isinstance(value, list) or len(value) != 2:
            raise fail(field, f"expected a [joint, joint] pair, got {value!r}")
        return joint(field, value[0]), joint(field, value[1])

    parents = _parents(data["parents"], names, joint, fail)
    edges = (
        pairs("edges", data["edges"])
        if data.get("edges") is not None
        else tuple((j, p) for j, p in enumerate(parents) if j != p)
    )
    roots = [j for j, p in enumerate(parents) if j == p]
    center = joint("center", data["center"]) if data.get("center") is not None else roots[0]
    raw_parts = data.get("parts") or {}
    if not isinstance(raw_parts, Mapping):
        raise fail("parts", "expected a mapping part name -> list of joints")
    parts: dict[str, tuple[int, ...]] = {}
    for part, members in raw_parts.items():
        if not isinstance(members, list) or not members:
            raise fail("parts", f"part {part!r} must be a non-empty list of joints")
        parts[str(part)] = tuple(joint(f"parts.{part}", m) for m in members)
    part_bones = _part_bones(data.get("part_bones") or {}, parts, index, fail)
    raw_regions = data.get("regions") or {}
    if not isinstance(raw_regions, Mapping):
        raise fail("regions", "expected a mapping region name -> list of joints")
    regions: dict[str, tuple[int, ...]] = {}
    for region, members in raw_regions.items():
        if not isinstance(members, list) or not members:
            raise fail("regions", f"region {region!r} must be a non-empty list of joints")
        regions[str(region)] = tuple(joint(f"regions.{region}", m) for m in members)
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise fail("description", "expected a string")
    try:
        return Layout(
            name=name.strip(),
            joint_names=tuple(names),
            parents=parents,
            edges=edges,
            center=center,
            left_right=pairs("left_right", data.get("left_right") or []),
            parts=parts,
            part_bones=part_bones,
            regions=regions,
            spine=optional_pair("spine"),
            shoulders=optional_pair("shoulders"),
            description=description,
        )
    except LayoutError as err:  # Layout.check's own findings, e.g. out-of-range indices
        raise LayoutError(f"{source}: {err}") from None


def write_layout_file(layout: Layout, path: str | os.PathLike[str]) -> Path:
    """Write `layout` as JSON or YAML (by suffix), atomically: a starting point for editing a built-in."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LAYOUT_FILE_SUFFIXES:
        raise LayoutError(f"{path}: a layout file must end in {', '.join(LAYOUT_FILE_SUFFIXES)}")
    data = layout.to_dict()
    if suffix == ".json":
        text = json.dumps(data, indent=1) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


# ----------------------------------------------------------------------------------------------- helpers


def _read_mapping(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        raise LayoutError(
            f"layout file {path} does not exist", hint="give a built-in name or an existing file"
        )
    if path.suffix.lower() not in LAYOUT_FILE_SUFFIXES:
        raise LayoutError(f"{path}: a layout file must end in {', '.join(LAYOUT_FILE_SUFFIXES)}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LayoutError(f"{path}: cannot read layout file ({err})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise LayoutError(f"{path} (line {err.lineno}): invalid JSON: {err.msg}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            problem = getattr(err, "problem", None) or str(err)
            raise LayoutError(f"{path}{where}: invalid YAML: {problem}") from None
    if not isinstance(data, Mapping):
        raise LayoutError(
            f"{path}: expected a mapping of layout fields at the top, got {type(data).__name__}"
        )
    return data


def _parents(
    value: Any,
    names: list[str],
    joint: Callable[[str, Any], int],
    fail: Callable[[str, str], LayoutError],
) -> tuple[int, ...]:
    """Parents as an aligned list or a ``joint: parent`` mapping; checks that the bones form a forest."""
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        extra = [k for k in value if k not in names]
        if extra:
            raise fail("parents", f"unknown joint {extra[0]!r}")
        if missing:
            raise fail("parents", f"no parent given for joint {missing[0]!r} (a root is its own parent)")
        parents = tuple(joint("parents", value[n]) for n in names)
    elif isinstance(value, list):
        if len(value) != len(names):
            raise fail("parents", f"{len(value)} entries for {len(names)} joints")
        parents = tuple(joint("parents", p) for p in value)
    else:
        raise fail("parents", "expected a list (one parent per joint) or a mapping joint -> parent")
    array = np.asarray(parents)
    if not (array == np.arange(array.size)).any():
        raise fail("parents", "no root joint: the root must be its own parent")
    # Following parents V times from every joint must end on a root; otherwise the bones contain a cycle.
    reached = np.arange(array.size)
    for _ in range(array.size):
        reached = array[reached]
    stuck = np.flatnonzero(array[reached] != reached)
    if stuck.size:
        raise fail("parents", f"joint {names[stuck[0]]!r} never reaches a root: the parents form a cycle")
    return parents


def _part_bones(
    value: Any,
    parts: Mapping[str, tuple[int, ...]],
    index: Mapping[str, int],
    fail: Callable[[str, str], LayoutError],
) -> dict[str, tuple[tuple[int, int], ...]]:
    """Per-part [child, parent] pairs; a joint is its position in the part, or a name of one of its joints."""
    if not isinstance(value, Mapping):
        raise fail("part_bones", "expected a mapping part name -> list of [child, parent] pairs")
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    for part, pairs in value.items():
        field = f"part_bones.{part}"
        if part not in parts:
            raise fail(field, f"no part {part!r} in 'parts'")
        members = parts[part]

        def position(item: Any, field: str = field, members: tuple[int, ...] = members) -> int:
            if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(members):
                return item
            if isinstance(item, str) and index.get(item) in members:
                return members.index(index[item])
            raise fail(
                field, f"{item!r} is not a joint of the part (a name, or a 0..{len(members) - 1} position)"
            )

        if not isinstance(pairs, list):
            raise fail(field, "expected a list of [child, parent] pairs")
        if bad := next((p for p in pairs if not isinstance(p, list) or len(p) != 2), None):
            raise fail(field, f"{bad!r} is not a [child, parent] pair")
        out[str(part)] = tuple((position(c), position(p)) for c, p in pairs)
    return out


def _refuse_builtin_name_clash(layout: Layout, source: str) -> None:
    """A file may not reuse a built-in name for a different skeleton: checkpoints compare layouts by name."""
    if layout.name in list_layouts() and get_layout(layout.name).to_dict() != layout.to_dict():
        raise LayoutError(
            f"{source}: field 'name': {layout.name!r} is a built-in layout with other joints or bones",
            hint=f"pass --layout {layout.name} to use the built-in one, or rename your layout",
        )
