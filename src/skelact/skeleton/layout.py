"""The `Layout`: everything skelact knows about one skeleton, in one place.

Models, transforms and losses never hard-code joint indices; they ask the layout (DESIGN.md principle 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skelact.errors import LayoutError

# SkeletonMAE's six body regions V0..V5 (specs/skeletonmae.md section 5), in the paper's order: a region
# mask names them by index or by name, so the order is part of the contract.
REGION_NAMES: tuple[str, ...] = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")


@dataclass(frozen=True)
class Layout:
    """A skeleton definition.

    Attributes:
        name: registry name, e.g. ``"ntu25"``.
        joint_names: one name per joint, in the dataset's order.
        parents: bone parent of each joint (0-based); the root is its own parent, giving a zero bone.
        edges: undirected graph edges (i, j) used by graph convolutions. Often equal to the bones, but some
            codebases use a different graph (PYSKL's NTU hands), so both are stored.
        center: the graph centre joint (the spatial-partition reference and the default centring joint).
        left_right: pairs (left joint, right joint) swapped by a horizontal flip.
        parts: named joint groups (``"upper"``, ``"lower"``, ``"body"``, ``"hands"``, ``"legs"``, ...).
        part_bones: for the parts that are streams of their own (PSUMNet), (child, parent) pairs indexing the
            part's joint list; the part's bones and its graph are both derived from them
            (`skelact.skeleton.parts`). A part without an entry takes the layout's bones inside the part.
        regions: the six body regions of `REGION_NAMES` (SkeletonMAE's masking units), a partition of the
            joints: every joint in exactly one region. Empty for a layout without a body (a hand).
        spine: (base, top) joints whose vector 3D view normalisation aligns to +z, if the layout has one.
        shoulders: (left, right) joints whose vector (right - left) is aligned to +x, if the layout has one.
        description: where the joint order comes from.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    edges: tuple[tuple[int, int], ...]
    center: int
    left_right: tuple[tuple[int, int], ...] = ()
    parts: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    part_bones: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    regions: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    spine: tuple[int, int] | None = None
    shoulders: tuple[int, int] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "joint_names", tuple(self.joint_names))
        object.__setattr__(self, "parents", tuple(int(p) for p in self.parents))
        object.__setattr__(self, "edges", tuple((int(a), int(b)) for a, b in self.edges))
        object.__setattr__(self, "left_right", tuple((int(a), int(b)) for a, b in self.left_right))
        object.__setattr__(self, "parts", {k: tuple(int(j) for j in v) for k, v in dict(self.parts).items()})
        regions = {k: tuple(int(j) for j in v) for k, v in dict(self.regions).items()}
        # canonical order (V0..V5); unknown names are kept at the end for `check` to name them
        ordered = {k: regions[k] for k in REGION_NAMES if k in regions}
        object.__setattr__(self, "regions", {**ordered, **regions})
        object.__setattr__(
            self,
            "part_bones",
            {k: tuple((int(c), int(p)) for c, p in v) for k, v in dict(self.part_bones).items()},
        )
        self.check()

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def bone_pairs(self) -> tuple[tuple[int, int], ...]:
        """(child, parent) for every joint, the root included (its bone is zero)."""
        return tuple((j, p) for j, p in enumerate(self.parents))

    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps every left joint with its right partner (identity elsewhere)."""
        perm = np.arange(self.num_joints)
        for left, right in self.left_right:
            perm[left], perm[right] = right, left
        return perm

    def joint_index(self, name: str) -> int:
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise LayoutError(f"layout {self.name!r} has no joint named {name!r}") from None

    def part(self, name: str) -> tuple[int, ...]:
        try:
            return self.parts[name]
        except KeyError:
            known = ", ".join(sorted(self.parts)) or "none"
            raise LayoutError(f"layout {self.name!r} has no part {name!r} (known parts: {known})") from None

    def region_joints(self, regions: Iterable[str | int]) -> tuple[int, ...]:
        """Sorted joints of the named regions (names from `REGION_NAMES`, or their indices 0..5)."""
        if not self.regions:
            raise LayoutError(
                f"layout {self.name!r} declares no body regions",
                hint="add 'regions' (head, torso, left_arm, right_arm, left_leg, right_leg) to the layout "
                "file (docs/custom-data.md)",
            )
        joints: set[int] = set()
        for region in regions:
            if isinstance(region, int) and not isinstance(region, bool):
                if not 0 <= region < len(REGION_NAMES):
                    raise LayoutError(f"region index {region} outside 0..{len(REGION_NAMES) - 1}")
                region = REGION_NAMES[region]
            if region not in self.regions:
                known = ", ".join(REGION_NAMES)
                raise LayoutError(f"layout {self.name!r} has no region {region!r}", hint=f"regions: {known}")
            joints.update(self.regions[region])
        return tuple(sorted(joints))

    def check(self) -> None:
        """Raise `LayoutError` if any index is out of range or the lists disagree in length."""
        v = self.num_joints
        if v == 0:
            raise LayoutError(f"layout {self.name!r} has no joints")
        if len(self.parents) != v:
            raise LayoutError(f"layout {self.name!r}: {len(self.parents)} parents for {v} joints")

        def bad(indices: Iterable[int]) -> list[int]:
            return [i for i in indices if not 0 <= i < v]

        flat_edges = [i for e in self.edges for i in e]
        flat_pairs = [i for e in self.left_right for i in e]
        flat_parts = [i for p in self.parts.values() for i in p]
        extra = [self.center, *(self.spine or ()), *(self.shoulders or ())]
        for what, idx in (
            ("parents", self.parents),
            ("edges", flat_edges),
            ("left_right", flat_pairs),
            ("parts", flat_parts),
            ("center/spine/shoulders", extra),
        ):
            if wrong := bad(idx):
                raise LayoutError(f"layout {self.name!r}: {what} index {wrong[0]} outside 0..{v - 1}")
        self._check_regions()
        for part, pairs in self.part_bones.items():
            if part not in self.parts:
                raise LayoutError(f"layout {self.name!r}: part_bones names an unknown part {part!r}")
            size = len(self.parts[part])
            if wrong := [i for pair in pairs for i in pair if not 0 <= i < size]:
                raise LayoutError(
                    f"layout {self.name!r}: part_bones[{part!r}] index {wrong[0]} outside the part's "
                    f"0..{size - 1}"
                )

    def _check_regions(self) -> None:
        """The regions, when declared, are exactly `REGION_NAMES` and partition the joints."""
        if not self.regions:
            return
        if unknown := [r for r in self.regions if r not in REGION_NAMES]:
            known = ", ".join(REGION_NAMES)
            raise LayoutError(f"layout {self.name!r}: unknown region {unknown[0]!r}", hint=f"known: {known}")
        if missing := [r for r in REGION_NAMES if r not in self.regions]:
            raise LayoutError(f"layout {self.name!r}: regions lack {missing[0]!r} (all six are needed)")
        owner: dict[int, str] = {}
        for region, joints in self.regions.items():
            if not joints:
                raise LayoutError(f"layout {self.name!r}: region {region!r} has no joints")
            for joint in joints:
                if not 0 <= joint < self.num_joints:
                    raise LayoutError(
                        f"layout {self.name!r}: regions index {joint} outside 0..{self.num_joints - 1}"
                    )
                if joint in owner:
                    raise LayoutError(
                        f"layout {self.name!r}: joint {self.joint_names[joint]!r} is in regions "
                        f"{owner[joint]!r} and {region!r} (regions must not overlap)"
                    )
                owner[joint] = region
        if len(owner) != self.num_joints:
            lost = next(j for j in range(self.num_joints) if j not in owner)
            raise LayoutError(
                f"layout {self.name!r}: joint {self.joint_names[lost]!r} is in no region (regions must "
                "cover every joint)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON description, stored in stores and checkpoints so custom layouts travel with data."""
        return {
            "name": self.name,
            "joint_names": list(self.joint_names),
            "parents": list(self.parents),
            "edges": [list(e) for e in self.edges],
            "center": self.center,
            "left_right": [list(p) for p in self.left_right],
            "parts": {k: list(v) for k, v in self.parts.items()},
            "part_bones": {k: [list(p) for p in v] for k, v in self.part_bones.items()},
            "regions": {k: list(v) for k, v in self.regions.items()},
            "spine": None if self.spine is None else list(self.spine),
            "shoulders": None if self.shoulders is None else list(self.shoulders),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layout:
        try:
            return cls(
                name=data["name"],
                joint_names=tuple(data["joint_names"]),
                parents=tuple(data["parents"]),
                edges=tuple(tuple(e) for e in data["edges"]),
                center=data["center"],
                left_right=tuple(tuple(p) for p in data.get("left_right", ())),
                parts={k: tuple(v) for k, v in data.get("parts", {}).items()},
                part_bones=_recorded_part_bones(data),
                regions=_recorded_regions(data),
                spine=None if data.get("spine") is None else tuple(data["spine"]),
                shoulders=None if data.get("shoulders") is None else tuple(data["shoulders"]),
                description=data.get("description", ""),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise LayoutError(f"not a valid layout description: {err}") from None


_LAYOUTS: dict[str, Callable[[], Layout]] = {}


def _recorded_part_bones(data: Mapping[str, Any]) -> dict[str, tuple[tuple[int, int], ...]]:
    """The record's part bones; a record written before the field existed (a store or checkpoint of a
    built-in layout) gets the built-in's, when name and joints match, so its part streams keep their
    published bones instead of silently falling back to the layout's."""
    if "part_bones" in data:
        return {k: tuple((int(c), int(p)) for c, p in v) for k, v in data["part_bones"].items()}
    factory = _LAYOUTS.get(data["name"])
    if factory is None:
        return {}
    builtin = factory()
    if list(builtin.joint_names) != list(data["joint_names"]):
        return {}
    recorded = data.get("parts", {})
    return {
        k: v for k, v in builtin.part_bones.items() if list(recorded.get(k, ())) == list(builtin.parts[k])
    }


def _recorded_regions(data: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The record's regions; a record written before the field existed (a store or checkpoint of a
    built-in layout) gets the built-in's when name and joints match, so SkeletonMAE runs on old stores."""
    if "regions" in data:
        return {k: tuple(int(j) for j in v) for k, v in data["regions"].items()}
    factory = _LAYOUTS.get(data["name"])
    if factory is None:
        return {}
    builtin = factory()
    return dict(builtin.regions) if list(builtin.joint_names) == list(data["joint_names"]) else {}


def register_layout(name: str) -> Callable[[Callable[[], Layout]], Callable[[], Layout]]:
    """Decorator registering a zero-argument layout factory under `name`."""

    def decorator(factory: Callable[[], Layout]) -> Callable[[], Layout]:
        if name in _LAYOUTS:
            raise LayoutError(f"layout {name!r} is registered twice")
        _LAYOUTS[name] = factory
        return factory

    return decorator


def get_layout(layout: str | Layout | Mapping[str, Any]) -> Layout:
    """Resolve a layout given by name, as a `Layout`, or as its `to_dict()` description."""
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, Mapping):
        return Layout.from_dict(layout)
    try:
        return _LAYOUTS[layout]()
    except KeyError:
        known = ", ".join(sorted(_LAYOUTS))
        raise LayoutError(f"unknown layout {layout!r}", hint=f"known layouts: {known}") from None


def list_layouts() -> list[str]:
    return sorted(_LAYOUTS)
