"""Skeleton knowledge: layouts, graph adjacency builders and layout-to-layout mappings."""

from skelact.skeleton import layouts as _builtin_layouts  # noqa: F401  (registers the built-in layouts)
from skelact.skeleton.layout import Layout, get_layout, list_layouts, register_layout

__all__ = ["Layout", "get_layout", "list_layouts", "register_layout"]
