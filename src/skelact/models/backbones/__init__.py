"""Backbones, one file per model family; importing this package registers them all."""

from skelact.models.backbones import feature_concat, mmixer  # noqa: F401  (multi-modal models, issue 16)
from skelact.models.backbones.base import GraphBackbone
from skelact.models.backbones.bigru import ISCBiGRU, isc_bigru
from skelact.models.backbones.ctrgcn import CTRGCN, ctrgcn
from skelact.models.backbones.deformable3d import Deformable3D, deformable3d
from skelact.models.backbones.heatmap_c3d import HeatmapC3D, heatmap_c3d
from skelact.models.backbones.psumnet import PSUMNet, psumnet
from skelact.models.backbones.skeletonmae import SkeletonMAEEncoder, skeletonmae
from skelact.models.backbones.stgcn import STGCN, stgcn
from skelact.models.backbones.stgcnpp import STGCNPP, stgcnpp
from skelact.models.backbones.strl import STRL, strl

__all__ = [
    "CTRGCN",
    "STGCN",
    "STGCNPP",
    "STRL",
    "Deformable3D",
    "GraphBackbone",
    "HeatmapC3D",
    "ISCBiGRU",
    "PSUMNet",
    "SkeletonMAEEncoder",
    "ctrgcn",
    "deformable3d",
    "heatmap_c3d",
    "isc_bigru",
    "psumnet",
    "skeletonmae",
    "stgcn",
    "stgcnpp",
    "strl",
]
