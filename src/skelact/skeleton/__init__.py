"""Skeleton knowledge: layouts, graph adjacency builders and layout-to-layout mappings."""

from skelact.skeleton import layouts as _builtin_layouts  # noqa: F401  (registers the built-in layouts)
from skelact.skeleton.graph import (
    ADJACENCY_STRATEGIES,
    build_adjacency,
    edge_matrix,
    hop_distance,
    k_hop,
    normalize_digraph,
    spatial_partition,
    uniform,
)
from skelact.skeleton.layout import Layout, get_layout, list_layouts, register_layout
from skelact.skeleton.mapping import LayoutMapping, get_mapping, list_mappings, map_keypoints

__all__ = [
    "ADJACENCY_STRATEGIES",
    "Layout",
    "LayoutMapping",
    "build_adjacency",
    "edge_matrix",
    "get_layout",
    "get_mapping",
    "hop_distance",
    "k_hop",
    "list_layouts",
    "list_mappings",
    "map_keypoints",
    "normalize_digraph",
    "register_layout",
    "spatial_partition",
    "uniform",
]
