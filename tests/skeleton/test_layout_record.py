"""The `Layout` record itself: validation, lookup and serialisation."""

from __future__ import annotations

import json

import pytest

from skelact.errors import LayoutError
from skelact.skeleton import Layout, get_layout, list_layouts, register_layout


def _chain(**overrides: object) -> Layout:
    fields: dict[str, object] = dict(
        name="chain3",
        joint_names=("a", "b", "c"),
        parents=(1, 1, 1),
        edges=((0, 1), (2, 1)),
        center=1,
        left_right=((0, 2),),
        parts={"upper": (0, 1), "lower": (2,)},
    )
    fields.update(overrides)
    return Layout(**fields)  # type: ignore[arg-type]


def test_unknown_layout_lists_known_ones() -> None:
    with pytest.raises(LayoutError, match="unknown layout 'nope'") as info:
        get_layout("nope")
    assert info.value.hint is not None
    for name in ("ntu25", "kinect20", "mediapipe33"):
        assert name in info.value.hint


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"edges": ((0, 3),)}, "edges index 3 outside 0..2"),
        ({"parents": (1, 1, -1)}, "parents index -1 outside 0..2"),
        ({"center": 5}, "center/spine/shoulders index 5"),
        ({"parts": {"upper": (7,)}}, "parts index 7"),
        ({"left_right": ((0, 9),)}, "left_right index 9"),
        ({"parents": (1, 1)}, "2 parents for 3 joints"),
        ({"joint_names": (), "parents": ()}, "has no joints"),
    ],
)
def test_out_of_range_or_inconsistent_layout_raises(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        _chain(**overrides)


def test_from_dict_rejects_incomplete_description() -> None:
    data = _chain().to_dict()
    del data["parents"]
    with pytest.raises(LayoutError, match="not a valid layout description"):
        Layout.from_dict(data)


def test_to_dict_is_json_and_round_trips() -> None:
    layout = _chain(spine=(2, 1), shoulders=(0, 2))
    restored = get_layout(json.loads(json.dumps(layout.to_dict())))
    assert restored == layout
    assert restored.spine == (2, 1) and restored.parts["lower"] == (2,)


def test_lookup_helpers() -> None:
    layout = get_layout("ntu25")
    assert layout.joint_index("spine_shoulder") == 20
    assert layout.bone_pairs[20] == (20, 20)
    with pytest.raises(LayoutError, match="no joint named 'tail'"):
        layout.joint_index("tail")
    with pytest.raises(LayoutError, match=r"no part 'wings'.*known parts: body"):
        layout.part("wings")
    assert get_layout(layout) is layout


def test_register_twice_raises() -> None:
    name = list_layouts()[0]
    with pytest.raises(LayoutError, match="registered twice"):
        register_layout(name)(lambda: _chain())
