"""Layouts declared in JSON/YAML files: names or indices, defaults, and one clear error per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skelact.errors import LayoutError
from skelact.skeleton import get_layout
from skelact.skeleton.layout_file import load_layout, read_layout_file, write_layout_file

ARM_YAML = """\
# a 4-joint arm, written with joint names
name: arm4
joint_names: [shoulder, elbow, wrist, hand]
parents: {shoulder: shoulder, elbow: shoulder, wrist: elbow, hand: wrist}
parts:
  lower_arm: [wrist, hand]
"""


def _arm(**changes: object) -> dict:
    data: dict = {
        "name": "arm4",
        "joint_names": ["shoulder", "elbow", "wrist", "hand"],
        "parents": [0, 0, 1, 2],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _write_json(tmp_path: Path, data: object, name: str = "layout.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_yaml_with_joint_names_gives_the_same_layout_as_indices(tmp_path: Path) -> None:
    (tmp_path / "arm.yaml").write_text(ARM_YAML)
    by_name = load_layout(tmp_path / "arm.yaml")
    by_index = load_layout(_write_json(tmp_path, _arm(parts={"lower_arm": [2, 3]})))
    assert by_name == by_index
    assert by_name.parents == (0, 0, 1, 2)
    # Defaults: edges are the bones without the root's self-loop, the centre is the root.
    assert by_name.edges == ((1, 0), (2, 1), (3, 2))
    assert by_name.center == 0
    assert by_name.part("lower_arm") == (2, 3)
    assert by_name.spine is None and by_name.left_right == ()


def test_every_field_of_a_full_file_is_read(tmp_path: Path) -> None:
    path = _write_json(
        tmp_path,
        _arm(
            joint_names=["pelvis", "neck", "left_hand", "right_hand"],
            parents=["pelvis", "pelvis", "neck", "neck"],
            edges=[["neck", "pelvis"], [2, 1], ["right_hand", "neck"], [2, 3]],
            center="neck",
            left_right=[["left_hand", "right_hand"]],
            spine=["pelvis", "neck"],
            shoulders=[2, 3],
            description="toy",
        ),
    )
    layout = read_layout_file(path)
    assert layout.edges == ((1, 0), (2, 1), (3, 1), (2, 3))
    assert (layout.center, layout.spine, layout.shoulders) == (1, (0, 1), (2, 3))
    assert layout.flip_permutation().tolist() == [0, 1, 3, 2]
    assert layout.description == "toy"


def test_builtin_names_and_written_files_round_trip(tmp_path: Path) -> None:
    assert load_layout("coco17") == get_layout("coco17")
    for suffix in (".json", ".yaml"):
        path = write_layout_file(get_layout("ntu25"), tmp_path / f"copy{suffix}")
        assert load_layout(str(path)) == get_layout("ntu25")
        assert not list(tmp_path.glob(".copy*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_arm(joints=["a"]), r"unknown field 'joints'"),
        (_arm(name=None), r"missing field 'name'"),
        (_arm(name=""), r"field 'name': expected a non-empty string"),
        (_arm(joint_names=[]), r"field 'joint_names': expected a non-empty list"),
        (_arm(joint_names=["a", "b", "a", "c"]), r"field 'joint_names': joint 'a' is listed twice"),
        (_arm(joint_names=["a", 2, "c", "d"]), r"field 'joint_names': entry 1 is 2"),
        (_arm(parents=[0, 0, 1]), r"field 'parents': 3 entries for 4 joints"),
        (_arm(parents=[0, 0, 1, 9]), r"field 'parents': joint index 9 outside 0..3"),
        (_arm(parents=[0, 0, 1, "finger"]), r"field 'parents': unknown joint 'finger'"),
        (_arm(parents=[1, 0, 1, 2]), r"field 'parents': no root joint"),
        (_arm(parents=[0, 2, 1, 2]), r"field 'parents': joint 'elbow' never reaches a root"),
        (
            _arm(parents={"shoulder": "shoulder", "elbow": 0}),
            r"field 'parents': no parent given for joint 'wrist'",
        ),
        (_arm(parents="0 0 1 2"), r"field 'parents': expected a list"),
        (_arm(edges=[[0, 1, 2]]), r"field 'edges': \[0, 1, 2\] is not a \[joint, joint\] pair"),
        (_arm(center="knee"), r"field 'center': unknown joint 'knee'"),
        (_arm(center=True), r"field 'center': True is not a joint"),
        (_arm(left_right=[["elbow", "nose"]]), r"field 'left_right': unknown joint 'nose'"),
        (_arm(spine=["shoulder"]), r"field 'spine': expected a \[joint, joint\] pair"),
        (_arm(parts={"hand": []}), r"field 'parts': part 'hand' must be a non-empty list"),
        (_arm(parts={"hand": ["palm"]}), r"field 'parts.hand': unknown joint 'palm'"),
        (_arm(description=3), r"field 'description': expected a string"),
        ([1, 2], r"expected a mapping of layout fields at the top, got list"),
    ],
)
def test_malformed_layout_files_name_the_file_and_field(tmp_path: Path, data: object, message: str) -> None:
    path = _write_json(tmp_path, data)
    with pytest.raises(LayoutError, match=message) as info:
        load_layout(path)
    assert str(path) in str(info.value)


def test_syntax_errors_give_the_line(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"name": "x",\n "joint_names": [\n}')
    with pytest.raises(LayoutError, match=r"bad\.json \(line 3\): invalid JSON"):
        load_layout(bad_json)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("name: x\njoint_names: [a, b\nparents: [0, 0]\n")
    with pytest.raises(LayoutError, match=r"bad\.yaml \(line \d\): invalid YAML"):
        load_layout(bad_yaml)


def test_unknown_names_missing_files_and_builtin_clashes(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="unknown layout 'coco18'") as info:
        load_layout("coco18")
    assert "coco17" in (info.value.hint or "")
    with pytest.raises(LayoutError, match=r"layout file .*missing\.yaml does not exist"):
        load_layout(tmp_path / "missing.yaml")
    other = tmp_path / "arm"
    other.write_text(ARM_YAML)
    with pytest.raises(LayoutError, match=r"must end in \.json, \.yaml, \.yml"):
        load_layout(other)
    # Reusing a built-in name for other joints would let a checkpoint accept the wrong data.
    with pytest.raises(LayoutError, match="'coco17' is a built-in layout"):
        load_layout(_write_json(tmp_path, _arm(name="coco17")))
    with pytest.raises(LayoutError, match="must end in"):
        write_layout_file(get_layout("coco17"), tmp_path / "x.txt")
