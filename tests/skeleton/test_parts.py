"""Part streams: PSUMNet's parts of ntu25, ntux67 and shrec22 against specs/psumnet.md section 3, our parts
of kinect20 and coco17, and the rule that a part's bones and its graph come from the same pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.errors import LayoutError
from skelact.skeleton import Layout, get_layout, hop_distance, spatial_partition
from skelact.skeleton.graph import listed_partition
from skelact.skeleton.layout_file import read_layout_file
from skelact.skeleton.parts import OFFICIAL_QUIRKS, part_layout, part_pairs

STREAM_PARTS = {
    "ntu25": {"body": 25, "hands": 13, "legs": 9},
    "ntux67": {"body": 37, "hands": 48, "legs": 13},
    "kinect20": {"body": 20, "hands": 9, "legs": 9},
    "coco17": {"body": 17, "hands": 7, "legs": 6},
    "shrec22": {"hands": 22},
}
CASES = [(layout, part) for layout, parts in STREAM_PARTS.items() for part in parts]


def one_based(pairs: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple((c - 1, p - 1) for c, p in pairs)


@pytest.mark.parametrize(("name", "part"), CASES)
@pytest.mark.parametrize("quirks", [False, True])
def test_bones_and_graph_come_from_the_same_pairs(name: str, part: str, quirks: bool) -> None:
    pairs = part_pairs(name, part, official_quirks=quirks)
    sub = part_layout(name, part, official_quirks=quirks)
    assert sub.num_joints == STREAM_PARTS[name][part]
    assert sub.joint_names == tuple(get_layout(name).joint_names[j] for j in get_layout(name).part(part))
    # Bones: the last pair of each child wins (the released feeders overwrite); the rest are roots.
    expected_parents = dict(pairs)
    assert sub.parents == tuple(expected_parents.get(j, j) for j in range(sub.num_joints))
    # Graph: every pair, oriented as listed, and nothing else.
    inward = listed_partition(sub, normalize=False)[1]
    assert {(int(c), int(p)) for p, c in zip(*np.nonzero(inward), strict=True)} == set(pairs)


@pytest.mark.parametrize(("name", "part"), CASES)
def test_corrected_parts_are_trees_rooted_at_their_centre(name: str, part: str) -> None:
    sub = part_layout(name, part)
    parents = np.asarray(sub.parents)
    roots = np.flatnonzero(parents == np.arange(sub.num_joints))
    assert roots.tolist() == [sub.center]
    assert len(sub.edges) == sub.num_joints - 1
    assert np.isfinite(hop_distance(sub, sub.num_joints)).all()
    # Edges listed child -> parent towards the centre: the listed graph is the spatial partition.
    np.testing.assert_array_equal(listed_partition(sub), spatial_partition(sub))


def test_ntu25_parts_against_spec() -> None:
    ntu = get_layout("ntu25")
    assert ntu.part("hands") == (20, 4, 5, 6, 7, 21, 22, 8, 9, 10, 11, 23, 24)
    assert ntu.part("legs") == (0, 12, 13, 14, 15, 16, 17, 18, 19)
    body = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
            (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23),
            (23, 8), (24, 25), (25, 12)]  # fmt: skip
    assert set(part_pairs(ntu, "body")) == set(one_based(body))
    assert part_layout(ntu, "body").parents[20] == 20  # spine shoulder: the root, a zero bone
    hand = [(2, 1), (3, 2), (4, 3), (5, 4), (6, 5), (7, 5),
            (8, 1), (9, 8), (10, 9), (11, 10), (12, 11), (13, 11)]  # fmt: skip
    assert part_pairs(ntu, "hands") == one_based(hand)
    corrected = [(2, 1), (3, 2), (4, 3), (5, 4), (6, 1), (7, 6), (8, 7), (9, 8)]
    assert part_pairs(ntu, "legs") == one_based(corrected)
    released = [(2, 1), (3, 2), (4, 3), (5, 4), (5, 1), (6, 5), (7, 6), (8, 7)]
    assert part_pairs(ntu, "legs", official_quirks=True) == one_based(released)


def test_official_leg_quirk_consequences() -> None:
    """Spec 3.1: L-foot bone = foot - spine base, R-hip hangs on the L-foot, R-foot isolated."""
    legs = part_layout("ntu25", "legs", official_quirks=True)
    names = legs.joint_names
    assert legs.name == "ntu25.legs:official"
    assert names[legs.parents[4]] == "spine_base" and names[4] == "left_foot"
    assert names[legs.parents[5]] == "left_foot" and names[5] == "right_hip"
    assert legs.parents[8] == 8 and names[8] == "right_foot"
    a = listed_partition(legs, normalize=False)
    assert a[1:, 8].sum() == a[1:, :, 8].sum() == 0  # only the self-loop
    assert a[1, 0, 4] == 1 and a[1, 3, 4] == 1  # the spurious foot -> spine base edge and the real one
    # Parts without a quirk are unchanged by the switch.
    assert part_layout("ntu25", "hands", official_quirks=True) == part_layout("ntu25", "hands")


def test_ntux67_streams_against_spec() -> None:
    ntux = get_layout("ntux67")
    assert ntux.num_joints == 67
    assert ntux.part("body") == (*range(25), 46, 50, 54, 58, 62, 66, 25, 29, 33, 37, 41, 45)
    assert ntux.part("hands") == (2, 3, 4, 5, 6, 7, *range(46, 67), *range(25, 46))
    assert ntux.part("legs") == (8, 9, 10, 11, 24, 22, 23, 12, 13, 14, 21, 19, 20)
    body = [(1, 2), (3, 2), (4, 3), (5, 4), (6, 2), (7, 6), (8, 7), (9, 2), (10, 9), (11, 10), (12, 11),
            (13, 9), (14, 13), (15, 14), (16, 1), (17, 1), (18, 16), (19, 17), (20, 15), (21, 20), (22, 15),
            (23, 12), (24, 23), (25, 12), (26, 4), (27, 26), (28, 27), (29, 26), (30, 26), (31, 26), (32, 7),
            (33, 32), (34, 32), (35, 32), (36, 32), (37, 32)]  # fmt: skip
    assert part_pairs(ntux, "body") == one_based(body)
    hand = part_pairs(ntux, "hands")
    assert hand[:3] == one_based([(2, 1), (3, 2), (7, 3)]) and hand[-1] == (3, 0)
    assert (7, 6) in hand and (11, 6) in hand and (10, 9) in hand  # right fingers hang on stream joint 7
    assert (27, 5) in hand and (28, 27) in hand  # left hand root on the left wrist, then its thumb
    leg = [(2, 1), (3, 2), (4, 3), (5, 4), (6, 4), (7, 6),
           (8, 1), (9, 8), (10, 9), (11, 10), (12, 10), (13, 12)]  # fmt: skip
    assert part_pairs(ntux, "legs") == one_based(leg)
    names = ntux.joint_names
    assert names[8] == "mid_hip" and names[24] == "right_heel" and names[25] == "left_hand"
    assert names[46] == "right_hand" and names[50] == "right_thumb4" and names[66] == "right_pinky4"


def test_shrec22_tree_and_released_indices() -> None:
    hand = get_layout("shrec22")
    names = hand.joint_names
    assert names[:3] == ("wrist", "palm", "thumb1") and names[21] == "pinky4"
    assert names[hand.parents[1]] == "wrist" and names[hand.parents[2]] == "palm"
    assert names[hand.parents[6]] == "palm" and names[hand.parents[9]] == "index3"
    released = part_pairs(hand, "hands", official_quirks=True)
    assert released[0] == (21, 0) and released[1] == (0, 1) and released[5] == (0, 5)
    assert released == OFFICIAL_QUIRKS["shrec22"]["hands"]
    assert part_pairs(hand, "hands") == tuple((j, p) for j, p in enumerate(hand.parents) if j != p)


def test_kinect20_and_coco17_parts() -> None:
    ucla = part_layout("kinect20", "hands")
    assert ucla.joint_names[0] == "shoulder_center" and ucla.center == 0
    assert part_layout("kinect20", "legs").joint_names[0] == "hip_center"
    coco = get_layout("coco17")
    body = part_layout(coco, "body")
    assert {frozenset(e) for e in body.edges} == {frozenset(e) for e in coco.edges}  # the COCO graph's tree
    assert part_layout(coco, "hands").joint_names == (
        "nose", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
    )  # fmt: skip
    legs = part_layout(coco, "legs")
    assert legs.joint_names[legs.parents[3]] == "left_hip" and legs.joint_names[3] == "right_hip"


def test_part_bones_are_checked_and_recorded() -> None:
    ntu = get_layout("ntu25")
    record = ntu.to_dict()
    assert record["part_bones"]["hands"][5] == [6, 4]  # the thumb on the hand
    assert Layout.from_dict(record) == ntu
    old = {k: v for k, v in record.items() if k != "part_bones"}  # a store written before the field
    assert Layout.from_dict(old).part_bones == ntu.part_bones
    other = {**old, "joint_names": [f"j{i}" for i in range(25)]}  # not the built-in skeleton
    assert Layout.from_dict(other).part_bones == {}
    with pytest.raises(LayoutError, match=r"outside the part's 0\.\.8"):
        Layout.from_dict({**record, "part_bones": {"legs": [[9, 0]]}})
    with pytest.raises(LayoutError, match="unknown part 'wings'"):
        Layout.from_dict({**record, "part_bones": {"wings": [[1, 0]]}})


def test_layout_file_part_bones_by_name_or_position(tmp_path: Path) -> None:
    path = tmp_path / "arm.yaml"
    path.write_text(
        "name: arm\njoint_names: [chest, shoulder, elbow, wrist]\nparents: [0, 0, 1, 2]\n"
        "parts: {limb: [chest, shoulder, elbow, wrist]}\n"
        "part_bones: {limb: [[shoulder, chest], [2, 1], [wrist, shoulder]]}\n"
    )
    layout = read_layout_file(path)
    assert layout.part_bones["limb"] == ((1, 0), (2, 1), (3, 1))
    assert part_layout(layout, "limb").parents == (0, 0, 1, 1)
    path.write_text(path.read_text().replace("[wrist, shoulder]", "[hip, shoulder]"))
    with pytest.raises(LayoutError, match="'hip' is not a joint of the part"):
        read_layout_file(path)
