"""Backbones, one file per model family; importing this package registers them all."""

from skelact.models.backbones.base import GraphBackbone
from skelact.models.backbones.bigru import ISCBiGRU, isc_bigru
from skelact.models.backbones.ctrgcn import CTRGCN, ctrgcn
from skelact.models.backbones.psumnet import PSUMNet, psumnet
from skelact.models.backbones.stgcn import STGCN, stgcn
from skelact.models.backbones.stgcnpp import STGCNPP, stgcnpp

__all__ = [
    "CTRGCN",
    "STGCN",
    "STGCNPP",
    "GraphBackbone",
    "ISCBiGRU",
    "PSUMNet",
    "ctrgcn",
    "isc_bigru",
    "psumnet",
    "stgcn",
    "stgcnpp",
]
