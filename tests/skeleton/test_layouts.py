"""Contract tests for every registered layout, plus spec-number checks for the built-in ones."""

from __future__ import annotations

import re

import numpy as np
import pytest

from skelact.skeleton import get_layout, hop_distance, list_layouts

BUILTIN = ("coco17", "jhmdb15", "kinect20", "mediapipe33", "ntu25", "ntux67", "openpose18")
ALL = list_layouts()
# A single hand has no sides and no body halves.
ONE_HAND = ("shrec22",)
# Layouts whose "body" part is PSUMNet's body stream, a subset of the joints (NTU-X: 25 body joints and the
# hand roots and finger tips, specs/psumnet.md 3.2).
BODY_STREAM_SUBSET = {"ntux67": 37}

# Expected (base, top) spine names of the layouts that have one; the others must have spine=None.
SPINE_NAMES = {
    "ntu25": ("spine_base", "spine_mid"),
    "kinect20": ("hip_center", "spine"),
    "jhmdb15": ("belly", "neck"),
    "ntux67": ("mid_hip", "neck"),
}


def _mirror(name: str) -> str:
    return re.sub(r"left|right", lambda m: "right" if m.group() == "left" else "left", name)


def test_builtins_registered() -> None:
    assert set(BUILTIN) <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_edges_valid_without_loops_or_duplicates(name: str) -> None:
    layout = get_layout(name)
    edges = np.asarray(layout.edges)
    assert edges.ndim == 2 and edges.shape[1] == 2
    assert edges.min() >= 0 and edges.max() < layout.num_joints
    assert not np.any(edges[:, 0] == edges[:, 1])
    undirected = {frozenset(e) for e in layout.edges}
    assert len(undirected) == len(layout.edges)


@pytest.mark.parametrize("name", ALL)
def test_bone_tree_reaches_root_from_every_joint(name: str) -> None:
    layout = get_layout(name)
    parents = np.asarray(layout.parents)
    roots = np.flatnonzero(parents == np.arange(layout.num_joints))
    assert roots.size == 1
    ancestor = np.arange(layout.num_joints)
    for _ in range(layout.num_joints):  # a path longer than V would be a cycle
        ancestor = parents[ancestor]
    assert np.all(ancestor == roots[0])


@pytest.mark.parametrize("name", ALL)
def test_graph_is_connected(name: str) -> None:
    layout = get_layout(name)
    assert np.all(np.isfinite(hop_distance(layout, layout.num_joints)))


@pytest.mark.parametrize("name", ALL)
def test_flip_is_an_involution_mapping_left_to_right_names(name: str) -> None:
    layout = get_layout(name)
    perm = layout.flip_permutation()
    np.testing.assert_array_equal(perm[perm], np.arange(layout.num_joints))
    names = layout.joint_names
    assert [names[p] for p in perm] == [_mirror(n) for n in names]
    if name in ONE_HAND:
        assert layout.left_right == ()
        return
    assert any("left" in names[a] and "right" in names[b] for a, b in layout.left_right)
    assert all("left" in names[a] and "right" in names[b] for a, b in layout.left_right)


@pytest.mark.parametrize("name", ALL)
def test_upper_and_lower_partition_the_body(name: str) -> None:
    layout = get_layout(name)
    if name in ONE_HAND:
        assert "upper" not in layout.parts and "lower" not in layout.parts
        assert set(layout.part("body")) == set(range(layout.num_joints))
        return
    upper, lower = set(layout.part("upper")), set(layout.part("lower"))
    everything = set(range(layout.num_joints))
    assert not upper & lower
    assert upper | lower == everything
    if name in BODY_STREAM_SUBSET:
        assert len(set(layout.part("body"))) == BODY_STREAM_SUBSET[name]
    else:
        assert set(layout.part("body")) == everything
    for part, joints in layout.parts.items():
        assert len(set(joints)) == len(joints), f"part {part!r} repeats a joint"


@pytest.mark.parametrize("name", ALL)
def test_limb_parts_are_sided(name: str) -> None:
    layout = get_layout(name)
    for part, joints in layout.parts.items():
        side = part.split("_")[0]
        if side in ("left", "right"):
            assert all(side in layout.joint_names[j] for j in joints), part


@pytest.mark.parametrize("name", ALL)
def test_spine_and_shoulder_names(name: str) -> None:
    layout = get_layout(name)
    if name in SPINE_NAMES:
        assert layout.spine is not None
        assert tuple(layout.joint_names[j] for j in layout.spine) == SPINE_NAMES[name]
    elif name in BUILTIN:
        assert layout.spine is None
    if layout.shoulders is not None:
        left, right = (layout.joint_names[j] for j in layout.shoulders)
        assert "shoulder" in left and "left" in left
        assert "shoulder" in right and "right" in right
    if name in BUILTIN:
        assert layout.shoulders is not None


@pytest.mark.parametrize("name", ALL)
def test_dict_round_trip(name: str) -> None:
    layout = get_layout(name)
    assert get_layout(layout.to_dict()) == layout


# --- spec numbers (shared/specs/formats-and-preprocessing.md section 1) ---------------------------------


def _one_based(pairs: list[tuple[int, int]]) -> set[frozenset[int]]:
    return {frozenset((a - 1, b - 1)) for a, b in pairs}


def test_ntu25_flip_matches_brl_permutation() -> None:
    # Spec 1.1: BRL's Spatial_Flip permutation.
    expected = [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19, 12, 13, 14, 15, 20, 23, 24, 21, 22]
    np.testing.assert_array_equal(get_layout("ntu25").flip_permutation(), expected)


def test_kinect20_against_spec() -> None:
    layout = get_layout("kinect20")
    spec_edges = [(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10), (12, 11),
                  (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19)]  # fmt: skip
    assert {frozenset(e) for e in layout.edges} == _one_based(spec_edges)
    assert layout.center == 2
    ntu_flip = get_layout("ntu25").flip_permutation()
    np.testing.assert_array_equal(layout.flip_permutation(), ntu_flip[:20])
    assert layout.part("upper") == tuple(range(1, 12))
    assert sorted(layout.part("lower")) == [0, *range(12, 20)]


def test_openpose18_against_spec() -> None:
    layout = get_layout("openpose18")
    assert layout.joint_names[:2] == ("nose", "neck") and layout.joint_names[17] == "left_ear"
    spec_bones = {1: 0, 2: 1, 3: 2, 4: 3, 5: 1, 6: 5, 7: 6, 8: 2, 9: 8, 10: 9, 11: 5, 12: 11, 13: 12,
                  14: 0, 15: 0, 16: 14, 17: 15}  # fmt: skip
    assert layout.parents == tuple([0] + [spec_bones[j] for j in range(1, 18)])
    assert layout.center == 1
    np.testing.assert_array_equal(
        layout.flip_permutation(), [0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16]
    )


def test_coco17_against_spec() -> None:
    layout = get_layout("coco17")
    spec_graph = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6),
                  (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)]  # fmt: skip
    assert {frozenset(e) for e in layout.edges} == {frozenset(e) for e in spec_graph}
    assert layout.parents[11] == 0 and layout.parents[12] == 0  # bones hang the hips on the nose


def test_jhmdb15_tree_and_names() -> None:
    layout = get_layout("jhmdb15")
    assert layout.joint_names[:3] == ("neck", "belly", "face")
    assert "[unverified]" in layout.description
    names = layout.joint_names
    bones = {(names[c], names[p]) for c, p in layout.bone_pairs if c != p}
    assert ("left_wrist", "left_elbow") in bones and ("right_hip", "belly") in bones
    assert len(bones) == 14


def test_mediapipe33_order_and_centre() -> None:
    layout = get_layout("mediapipe33")
    names = layout.joint_names
    assert (names[0], names[11], names[22], names[32]) == (
        "nose", "left_shoulder", "right_thumb", "right_foot_index",
    )  # fmt: skip
    assert names[layout.parents[31]] == "left_ankle" and names[layout.parents[23]] == "left_shoulder"
    # The centre is a joint of smallest eccentricity.
    eccentricity = hop_distance(layout, 33).max(axis=1)
    assert eccentricity[layout.center] == eccentricity.min() == 5


def test_pyskl_graph_variant_of_ntu25() -> None:
    """PYSKL's NTU graph hangs hand tip and thumb on the hand; ntu25's own edges and bones stay CTR-GCN's
    (tip -> thumb -> hand)."""
    from skelact.errors import LayoutError
    from skelact.skeleton.layouts import graph_variant

    ntu = get_layout("ntu25")
    pyskl = graph_variant("ntu25", "pyskl")
    assert pyskl.name == "ntu25:pyskl" and pyskl.parents == ntu.parents and pyskl.center == ntu.center

    def named(layout):
        return {frozenset(layout.joint_names[j] for j in e) for e in layout.edges}

    side = ("left", "right")
    assert named(ntu) - named(pyskl) == {frozenset({f"{s}_hand_tip", f"{s}_thumb"}) for s in side}
    assert named(pyskl) - named(ntu) == {frozenset({f"{s}_hand_tip", f"{s}_hand"}) for s in side}
    assert np.all(np.isfinite(hop_distance(pyskl, 25)))
    assert get_layout("ntu25").edges == ntu.edges  # the registered layout is untouched
    # A layout whose PYSKL graph is its own comes back unchanged; None asks for no variant.
    assert graph_variant("kinect20", "pyskl") == get_layout("kinect20")
    assert graph_variant(ntu, None) is ntu
    with pytest.raises(LayoutError, match="unknown graph variant 'mmaction'"):
        graph_variant("ntu25", "mmaction")
