"""Adjacency builders: shapes, normalisation, orientation and exact small cases."""

from __future__ import annotations

import numpy as np
import pytest

from skelact.errors import ConfigError, LayoutError
from skelact.skeleton import (
    ADJACENCY_STRATEGIES,
    Layout,
    build_adjacency,
    edge_matrix,
    get_layout,
    hop_distance,
    k_hop,
    list_layouts,
    normalize_digraph,
    spatial_partition,
    uniform,
)


def _layout(edges: tuple[tuple[int, int], ...], center: int, v: int = 4) -> Layout:
    return Layout(
        name="toy",
        joint_names=tuple(f"j{i}" for i in range(v)),
        parents=tuple([0] * v),
        edges=edges,
        center=center,
    )


CHAIN = _layout(((0, 1), (1, 2), (2, 3)), center=1)  # 0 - 1 - 2 - 3


def test_hop_distance_chain() -> None:
    inf = np.inf
    expected = [[0, 1, 2, inf], [1, 0, 1, 2], [2, 1, 0, 1], [inf, 2, 1, 0]]
    np.testing.assert_array_equal(hop_distance(CHAIN, 2), expected)
    assert hop_distance(CHAIN, 5)[0, 3] == 3
    np.testing.assert_array_equal(hop_distance(CHAIN, 0), np.where(np.eye(4) > 0, 0, inf))
    with pytest.raises(ConfigError, match="max_hop must be an integer >= 0"):
        hop_distance(CHAIN, -1)


def test_k_hop_chain_exact() -> None:
    a = k_hop(CHAIN, 2)
    assert a.shape == (3, 4, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a[0], np.eye(4))
    np.testing.assert_array_equal(a[1], [[0, 0.5, 0, 0], [1, 0, 0.5, 0], [0, 0.5, 0, 1], [0, 0, 0.5, 0]])
    np.testing.assert_array_equal(a[2], [[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]])
    raw = k_hop(CHAIN, 2, normalize=False)
    np.testing.assert_array_equal(raw[1], edge_matrix(CHAIN))


def test_spatial_chain_exact() -> None:
    # Hops to the centre (joint 1): [1, 0, 1, 2]. inward[i, j] = 1 when j is one hop farther than i.
    raw = spatial_partition(CHAIN, normalize=False)
    np.testing.assert_array_equal(raw[0], np.eye(4))
    np.testing.assert_array_equal(raw[1], [[0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(raw[2], raw[1].T)
    norm = spatial_partition(CHAIN)
    np.testing.assert_array_equal(norm[1], raw[1])  # every sender has one inward receiver
    np.testing.assert_array_equal(norm[2], [[0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]])


def test_spatial_ignores_edge_listing_order() -> None:
    flipped = _layout(((1, 0), (2, 1), (3, 2)), center=1)
    np.testing.assert_array_equal(spatial_partition(flipped), spatial_partition(CHAIN))


def test_spatial_same_distance_neighbours_join_root_subset() -> None:
    triangle = _layout(((0, 1), (1, 2), (2, 0)), center=0, v=3)
    a = spatial_partition(triangle)
    np.testing.assert_array_equal(a[0], [[1, 0, 0], [0, 0.5, 0.5], [0, 0.5, 0.5]])
    np.testing.assert_array_equal(a[1], [[0, 1, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(a[2], [[0, 0, 0], [0.5, 0, 0], [0.5, 0, 0]])


def test_spatial_rejects_edges_cut_off_from_centre() -> None:
    split = _layout(((0, 1), (2, 3)), center=0)
    with pytest.raises(LayoutError, match="not connected to the centre 'j0'"):
        spatial_partition(split)
    # An isolated joint without edges is fine: it only keeps its self-loop.
    alone = spatial_partition(_layout(((0, 1), (1, 2)), center=0))
    assert alone[:, 3].sum() == 1 and alone[0, 3, 3] == 1


@pytest.mark.parametrize("name", list_layouts())
def test_spatial_on_every_layout(name: str) -> None:
    layout = get_layout(name)
    v = layout.num_joints
    a = spatial_partition(layout)
    assert a.shape == (3, v, v) and a.dtype == np.float32
    np.testing.assert_array_equal(a[0], np.eye(v))  # every built-in graph is a tree
    # The three subsets together have exactly the non-zero pattern of A + I.
    np.testing.assert_array_equal(a.sum(0) > 0, (edge_matrix(layout) + np.eye(v)) > 0)
    # Normalised: every non-empty column sums to 1.
    sums = a.sum(axis=1)
    np.testing.assert_allclose(sums[sums > 0], 1.0, rtol=1e-6)
    # Inward messages come from the farther endpoint, by hop distance to the centre.
    to_center = hop_distance(layout, v)[layout.center]
    receivers, senders = np.nonzero(a[1])
    np.testing.assert_array_equal(to_center[senders], to_center[receivers] + 1)
    np.testing.assert_array_equal(a[2] > 0, a[1].T > 0)


def test_ntu25_spatial_matches_bone_orientation() -> None:
    # ntu25's graph is its bone tree rooted at the centre, so inward links are exactly A[parent, child].
    layout = get_layout("ntu25")
    inward = np.zeros((25, 25), dtype=np.float32)
    for child, parent in layout.bone_pairs:
        if child != parent:
            inward[parent, child] = 1.0
    raw = spatial_partition(layout, normalize=False)
    np.testing.assert_array_equal(raw[1], inward)
    np.testing.assert_array_equal(raw[2], inward.T)
    # Spine shoulder (20) sends outward to its 4 children (spine mid, neck, both shoulders): 1/4 each.
    outward_20 = spatial_partition(layout)[2][:, 20]
    np.testing.assert_array_equal(np.flatnonzero(outward_20), [1, 2, 4, 8])
    np.testing.assert_array_equal(outward_20[[1, 2, 4, 8]], 0.25)


def test_uniform_and_normalize() -> None:
    a = uniform(CHAIN)
    assert a.shape == (1, 4, 4)
    np.testing.assert_allclose(a[0].sum(axis=0), 1.0)
    np.testing.assert_array_equal(a[0], normalize_digraph(edge_matrix(CHAIN) + np.eye(4, dtype=np.float32)))
    assert a[0, 0, 1] == pytest.approx(1 / 3) and a[0, 1, 0] == 0.5
    np.testing.assert_array_equal(normalize_digraph(np.zeros((2, 2))), np.zeros((2, 2)))
    np.testing.assert_array_equal(normalize_digraph(np.array([[1, 1], [0, 1]])), [[1, 0.5], [0, 0.5]])


def test_build_adjacency_strategies() -> None:
    assert ADJACENCY_STRATEGIES == ("spatial", "uniform", "k_hop", "listed")
    assert build_adjacency("ntu25").shape == (3, 25, 25)
    assert build_adjacency("coco17", "uniform").shape == (1, 17, 17)
    np.testing.assert_array_equal(build_adjacency(CHAIN, "k_hop", max_hop=2), k_hop(CHAIN, 2))
    np.testing.assert_array_equal(
        build_adjacency(CHAIN.to_dict(), "spatial", normalize=False),
        spatial_partition(CHAIN, normalize=False),
    )
    two_hop = build_adjacency(CHAIN, "spatial", max_hop=2, normalize=False)
    assert two_hop[2, 3, 1] == 1 and two_hop[1, 1, 3] == 1  # 1 -> 3 is outward at two hops


def test_listed_partition_orients_edges_as_listed() -> None:
    """CTR-GCN's construction: inward[parent, child] from (child, parent) edges, whatever the centre."""
    a = build_adjacency(CHAIN, "listed", normalize=False)
    np.testing.assert_array_equal(a[0], np.eye(4))
    for child, parent in CHAIN.edges:
        assert a[1, parent, child] == 1 and a[2, child, parent] == 1
    assert a[1].sum() == a[2].sum() == len(CHAIN.edges)
    # A tree rooted at its centre: the same as the spatial partition (ntu25's edges point to joint 20).
    np.testing.assert_array_equal(build_adjacency("ntu25", "listed"), spatial_partition("ntu25"))


def test_build_adjacency_unknown_strategy() -> None:
    with pytest.raises(ConfigError, match="unknown adjacency strategy 'agcn'") as info:
        build_adjacency("ntu25", "agcn")
    assert info.value.hint == "valid strategies: spatial, uniform, k_hop, listed"
    with pytest.raises(ConfigError, match="k must be an integer"):
        build_adjacency("ntu25", "k_hop", max_hop=1.5)  # type: ignore[arg-type]
