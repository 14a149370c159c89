"""Backbones, one file per model family; importing this package registers them all."""

from skelact.models.backbones.stgcn import STGCN, stgcn

__all__ = ["STGCN", "stgcn"]
