"""SkeletonMAE's body regions (specs/skeletonmae.md section 5): declared per layout, a partition of the
joints, checked when a layout is built, carried by layout records and layout files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from skelact.errors import LayoutError
from skelact.skeleton import get_layout, list_layouts
from skelact.skeleton.layout import REGION_NAMES, Layout
from skelact.skeleton.layout_file import read_layout_file, write_layout_file

WITH_REGIONS = [name for name in list_layouts() if get_layout(name).regions]


def test_every_body_layout_declares_regions() -> None:
    bodies = {"coco17", "kinect20", "ntu25", "openpose18", "jhmdb15", "mediapipe33", "ntux67"}
    assert set(WITH_REGIONS) >= bodies
    assert not get_layout("shrec22").regions  # a hand has no body regions


@pytest.mark.parametrize("name", WITH_REGIONS)
def test_regions_are_disjoint_and_complete(name: str) -> None:
    layout = get_layout(name)
    assert tuple(layout.regions) == REGION_NAMES
    joints = [j for region in layout.regions.values() for j in region]
    assert len(joints) == len(set(joints)), "regions overlap"
    assert sorted(joints) == list(range(layout.num_joints)), "regions miss a joint"


@pytest.mark.parametrize("name", WITH_REGIONS)
def test_limb_regions_hold_joints_of_their_side(name: str) -> None:
    layout = get_layout(name)
    for region in ("left_arm", "right_arm", "left_leg", "right_leg"):
        other = "right" if region.startswith("left") else "left"
        for joint in layout.regions[region]:
            assert not layout.joint_names[joint].startswith(other), (region, layout.joint_names[joint])


def test_default_mask_on_coco17_is_right_arm_and_right_leg() -> None:
    layout = get_layout("coco17")
    assert layout.region_joints(["right_arm", "right_leg"]) == (8, 10, 14, 16)
    assert layout.region_joints([3, 5]) == (8, 10, 14, 16)  # V3, V5 by index
    names = {layout.joint_names[j] for j in layout.region_joints([3, 5])}
    assert names == {"right_elbow", "right_wrist", "right_knee", "right_ankle"}


def test_region_lookup_errors() -> None:
    layout = get_layout("coco17")
    with pytest.raises(LayoutError, match="no region 'tail'"):
        layout.region_joints(["tail"])
    with pytest.raises(LayoutError, match=r"region index 6 outside 0\.\.5"):
        layout.region_joints([6])
    with pytest.raises(LayoutError, match="declares no body regions"):
        get_layout("shrec22").region_joints(["head"])


def _with_regions(**regions: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    return {**get_layout("coco17").regions, **regions}


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        (_with_regions(torso=(5, 6, 11, 12, 8)), "'right_elbow' is in regions 'torso' and 'right_arm'"),
        (_with_regions(head=(0, 1, 2, 3)), "joint 'right_ear' is in no region"),
        ({k: v for k, v in _with_regions().items() if k != "torso"}, "regions lack 'torso'"),
        ({**_with_regions(), "tail": (4,)}, "unknown region 'tail'"),
        (_with_regions(head=(0, 1, 2, 3, 40)), r"regions index 40 outside 0\.\.16"),
    ],
)
def test_bad_regions_are_refused(regions: dict[str, tuple[int, ...]], message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        dataclasses.replace(get_layout("coco17"), regions=regions)


def test_regions_travel_in_records_and_old_records_get_the_builtin_ones() -> None:
    layout = get_layout("kinect20")
    assert Layout.from_dict(layout.to_dict()).regions == layout.regions
    old = {k: v for k, v in layout.to_dict().items() if k != "regions"}  # a store written before regions
    assert Layout.from_dict(old).regions == layout.regions
    renamed = {**old, "name": "my_kinect"}
    assert Layout.from_dict(renamed).regions == {}


def test_layout_file_regions_by_name(tmp_path: Path) -> None:
    path = write_layout_file(get_layout("coco17"), tmp_path / "coco.yaml")
    text = path.read_text().replace("name: coco17", "name: my_coco")
    path.write_text(text)
    assert read_layout_file(path).regions == get_layout("coco17").regions
    import yaml

    data = yaml.safe_load(text)
    data["regions"] = {k: [data["joint_names"][j] for j in v] for k, v in data["regions"].items()}
    data["regions"]["head"].append("right_wrist")
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(LayoutError, match=r"my_coco.*'right_wrist' is in regions 'head' and 'right_arm'"):
        read_layout_file(path)
