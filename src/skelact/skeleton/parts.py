"""Part streams (PSUMNet, specs/psumnet.md sections 3 and 11): a layout's part as a skeleton of its own.

A part is the layout's joint list (``layout.parts[name]``, in stream order) plus (child, parent) pairs by
position in that list: ``layout.part_bones[name]`` where given, else the layout's bones inside the part.
`part_layout` turns both into a `Layout` whose parents (the bones) and edges (the graph) come from the same
pairs, so a stream's bones and its adjacency cannot drift apart. Part joints keep their global coordinates
(the paper's "global frame", spec section 1): selecting them is all a part does to the data.

``official_quirks=True`` swaps in the pairs of PSUMNet's released code where they are wrong
(`OFFICIAL_QUIRKS`), for parameter and checkpoint parity; the default is the corrected lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skelact.errors import LayoutError
from skelact.skeleton.layout import Layout, get_layout

Pairs = tuple[tuple[int, int], ...]

# SHREC'17 as released (spec 3.3): the intended 0-based tree written as (parent, child) and still shifted by
# -1 when read, so the first pair wraps to the last joint: (0, 1) is read as (21, 0), (1, 2) as (0, 1), ...
_SHREC_WRITTEN = (
    (0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 6), (6, 7), (7, 8), (8, 9), (1, 10), (10, 11), (11, 12),
    (12, 13), (1, 14), (14, 15), (15, 16), (16, 17), (1, 18), (18, 19), (19, 20), (20, 21),
)  # fmt: skip

# The released code's lists where they differ from the intended ones, as (child, parent) 0-based positions.
OFFICIAL_QUIRKS: dict[str, dict[str, Pairs]] = {
    # Spec 3.1: 2->1, 3->2, 4->3, 5->4, 5->1, 6->5, 7->6, 8->7 (1-based): the right leg shifted by one, so
    # the left foot's bone is overwritten by (foot - spine base), the right hip hangs on the left foot and the
    # right foot is isolated.
    "ntu25": {"legs": ((1, 0), (2, 1), (3, 2), (4, 3), (4, 0), (5, 4), (6, 5), (7, 6))},
    "shrec22": {"hands": tuple(((c - 1) % 22, (p - 1) % 22) for c, p in _SHREC_WRITTEN)},
}


def part_pairs(layout: str | Layout | Mapping[str, Any], part: str, official_quirks: bool = False) -> Pairs:
    """(child, parent) pairs of `part`, by position in ``layout.part(part)``."""
    layout = get_layout(layout)
    joints = layout.part(part)
    if official_quirks and part in OFFICIAL_QUIRKS.get(layout.name, {}):
        return OFFICIAL_QUIRKS[layout.name][part]
    if part in layout.part_bones:
        return layout.part_bones[part]
    position = {joint: i for i, joint in enumerate(joints)}
    return tuple(
        (i, position[layout.parents[joint]])
        for i, joint in enumerate(joints)
        if layout.parents[joint] in position and layout.parents[joint] != joint
    )


def part_layout(layout: str | Layout | Mapping[str, Any], part: str, official_quirks: bool = False) -> Layout:
    """The part as a `Layout`, named ``"<layout>.<part>"`` (``":official"`` appended with the quirks).

    Parents: each pair's parent for its child (a later pair for the same child wins, as in the released
    feeders, which overwrite); a joint that is nobody's child is a root (zero bone). Edges: every pair (the
    released graphs keep the overwritten pairs too). Centre: the first root in stream order. Left/right pairs
    are kept where both joints are in the part.
    """
    layout = get_layout(layout)
    joints = layout.part(part)
    pairs = part_pairs(layout, part, official_quirks)
    last_parent = dict(pairs)  # later pairs overwrite earlier ones
    parents = tuple(last_parent.get(i, i) for i in range(len(joints)))
    roots = [i for i, p in enumerate(parents) if i == p]
    if not roots:
        raise LayoutError(f"layout {layout.name!r}: part {part!r} has no root (its bones form a cycle)")
    position = {joint: i for i, joint in enumerate(joints)}
    quirky = official_quirks and part in OFFICIAL_QUIRKS.get(layout.name, {})
    return Layout(
        name=f"{layout.name}.{part}" + (":official" if quirky else ""),
        joint_names=tuple(layout.joint_names[j] for j in joints),
        parents=parents,
        edges=tuple((c, p) for c, p in pairs if c != p),
        center=roots[0],
        left_right=tuple(
            (position[a], position[b]) for a, b in layout.left_right if a in position and b in position
        ),
        parts={"body": tuple(range(len(joints)))},
        description=f"part {part!r} of {layout.name} ({len(joints)} joints)",
    )
