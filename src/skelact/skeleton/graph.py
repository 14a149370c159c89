"""Adjacency builders: turn a layout's graph edges into the (K, V, V) stacks graph convolutions consume.

Convention (all builders): ``A[k][i, j]`` is the weight of the message *from joint j to joint i*, so a graph
convolution computes ``x_out[..., i] = sum_j A[k][i, j] * x_in[..., j]``, e.g. ``einsum("kij,nctj->nkcti")``.
This is CTR-GCN's orientation (its inward matrix holds ``A[parent, child]``). "Normalised" is the column
normalisation ``A @ D^-1`` with D the column sums (``normalize_digraph`` in ST-GCN, CTR-GCN and PYSKL): every
sender's outgoing weights sum to 1, and all-zero columns stay zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from skelact.errors import ConfigError, LayoutError
from skelact.skeleton.layout import Layout, get_layout

LayoutLike = str | Layout | Mapping[str, Any]


def _check_hop(value: int, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def edge_matrix(layout: LayoutLike) -> np.ndarray:
    """Symmetric 0/1 (V, V) matrix of the graph edges; self-loops are dropped (the identity adds them)."""
    layout = get_layout(layout)
    v = layout.num_joints
    a = np.zeros((v, v), dtype=np.float32)
    if layout.edges:
        pairs = np.asarray(layout.edges, dtype=np.int64)
        a[pairs[:, 0], pairs[:, 1]] = 1.0
        a[pairs[:, 1], pairs[:, 0]] = 1.0
    np.fill_diagonal(a, 0.0)
    return a


def hop_distance(layout: LayoutLike, max_hop: int) -> np.ndarray:
    """(V, V) graph distance in edges, ``inf`` where farther than `max_hop` (or unreachable).

    Distance h is where ``(A + I)^h`` first becomes non-zero; the reachability matrix is re-binarised after
    every product so large graphs and hops cannot overflow.
    """
    max_hop = _check_hop(max_hop, "max_hop", 0)
    step = edge_matrix(layout) + np.eye(get_layout(layout).num_joints, dtype=np.float32)
    hop = np.full(step.shape, np.inf, dtype=np.float32)
    reach = np.eye(step.shape[0], dtype=np.float32)
    np.fill_diagonal(hop, 0.0)
    for h in range(1, max_hop + 1):  # loop over hops, not joints
        new_reach = ((reach @ step) > 0).astype(np.float32)
        hop[(new_reach > 0) & (reach == 0)] = h
        if np.array_equal(new_reach, reach):  # the whole component is reached
            break
        reach = new_reach
    return hop


def normalize_digraph(a: np.ndarray) -> np.ndarray:
    """Column-normalise ``a`` (..., V, V): ``A @ D^-1`` with D the column sums; zero columns stay zero."""
    col = np.asarray(a, dtype=np.float64).sum(axis=-2, keepdims=True)
    inv = np.divide(1.0, col, out=np.zeros_like(col), where=col > 0)
    return (a * inv).astype(np.float32)


def _maybe_normalize(stack: np.ndarray, normalize: bool) -> np.ndarray:
    return normalize_digraph(stack) if normalize else stack.astype(np.float32)


def spatial_partition(layout: LayoutLike, normalize: bool = True, max_hop: int = 1) -> np.ndarray:
    """ST-GCN's "spatial" labelling as a (3, V, V) stack: [root, inward, outward].

    Each neighbour pair (within `max_hop`) is oriented by its hop distance to ``layout.center``, never by
    the order the edges are listed in. ``inward[i, j] != 0`` exactly when j is a neighbour farther from the
    centre than i (the message travels towards the centre); ``outward`` is its transpose pattern. Neighbours
    at the same distance from the centre (cycles, or siblings once ``max_hop > 1``) join the root subset, as
    in ST-GCN; for a tree with ``max_hop = 1`` the root subset is exactly the identity. With ``normalize``
    each subset is column-normalised on its own (CTR-GCN/PYSKL), else raw 0/1.
    """
    layout = get_layout(layout)
    max_hop = _check_hop(max_hop, "max_hop", 1)
    v = layout.num_joints
    to_center = hop_distance(layout, v)[layout.center]
    near = hop_distance(layout, max_hop)
    neighbour = np.isfinite(near) & (near > 0)
    rows, cols = np.nonzero(neighbour & ~np.isfinite(to_center)[None, :])
    if rows.size:
        raise LayoutError(
            f"layout {layout.name!r}: joint {layout.joint_names[cols[0]]!r} is linked to the graph but not "
            f"connected to the centre {layout.joint_names[layout.center]!r}; the spatial partition needs one "
            "connected graph"
        )
    receiver, sender = to_center[:, None], to_center[None, :]
    stack = np.stack(
        [
            np.eye(v, dtype=bool) | (neighbour & (receiver == sender)),
            neighbour & (receiver < sender),
            neighbour & (receiver > sender),
        ]
    )
    return _maybe_normalize(stack.astype(np.float32), normalize)


def listed_partition(layout: LayoutLike, normalize: bool = True) -> np.ndarray:
    """CTR-GCN's own "spatial" construction (``get_spatial_graph``), as PSUMNet uses it: [I, inward, outward]
    with every edge oriented as it is listed, ``(child, parent)``, instead of by distance to the centre.

    ``inward[parent, child] = 1`` (the message travels child -> parent), ``outward`` is its transpose, each
    column-normalised. For a tree whose root is the centre this equals `spatial_partition`; it also accepts
    the graphs that one cannot orient (cycles, isolated joints, a joint listed with two parents), which the
    released PSUMNet code builds by mistake and parity needs (specs/psumnet.md 3.4).
    """
    layout = get_layout(layout)
    v = layout.num_joints
    inward = np.zeros((v, v), dtype=np.float32)
    if layout.edges:
        pairs = np.asarray(layout.edges, dtype=np.int64)
        inward[pairs[:, 1], pairs[:, 0]] = 1.0
    stack = np.stack([np.eye(v, dtype=np.float32), inward, inward.T])
    return _maybe_normalize(stack, normalize)


def uniform(layout: LayoutLike, normalize: bool = True, max_hop: int = 1) -> np.ndarray:
    """ST-GCN's "uniform" labelling: (1, V, V), every neighbour within `max_hop` and the joint itself
    alike."""
    hop = hop_distance(layout, _check_hop(max_hop, "max_hop", 0))
    return _maybe_normalize(np.isfinite(hop)[None].astype(np.float32), normalize)


def k_hop(layout: LayoutLike, k: int, normalize: bool = True) -> np.ndarray:
    """(k + 1, V, V): subset h links joints exactly h hops apart (h = 0 is the identity), each normalised.

    This is ST-GCN's "distance" labelling with per-subset normalisation (the MS-G3D style of k-hop stacks).
    """
    k = _check_hop(k, "k", 0)
    hop = hop_distance(layout, k)
    stack = (hop[None] == np.arange(k + 1, dtype=np.float32)[:, None, None]).astype(np.float32)
    return _maybe_normalize(stack, normalize)


_STRATEGIES: dict[str, Callable[[Layout, int, bool], np.ndarray]] = {
    "spatial": lambda layout, max_hop, normalize: spatial_partition(layout, normalize, max_hop),
    "uniform": lambda layout, max_hop, normalize: uniform(layout, normalize, max_hop),
    "k_hop": lambda layout, max_hop, normalize: k_hop(layout, max_hop, normalize),
    "listed": lambda layout, max_hop, normalize: listed_partition(layout, normalize),
}
ADJACENCY_STRATEGIES: tuple[str, ...] = tuple(_STRATEGIES)


def build_adjacency(
    layout: LayoutLike, strategy: str = "spatial", max_hop: int = 1, normalize: bool = True
) -> np.ndarray:
    """One entry point for models and configs: a float32 (K, V, V) adjacency stack.

    ``"spatial"`` gives K = 3, ``"uniform"`` K = 1, ``"k_hop"`` K = max_hop + 1, ``"listed"`` K = 3 (edges
    oriented as listed; `max_hop` does not apply).
    """
    try:
        builder = _STRATEGIES[strategy]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown adjacency strategy {strategy!r}", hint=f"valid strategies: {', '.join(_STRATEGIES)}"
        ) from None
    return builder(get_layout(layout), max_hop, normalize)
