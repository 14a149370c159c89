"""Backbones, one file per model family; importing this package registers them all."""

from skelact.models.backbones.base import GraphBackbone
from skelact.models.backbones.ctrgcn import CTRGCN, ctrgcn
from skelact.models.backbones.psumnet import PSUMNet, psumnet
from skelact.models.backbones.stgcn import STGCN, stgcn
from skelact.models.backbones.stgcnpp import STGCNPP, stgcnpp

__all__ = ["CTRGCN", "STGCN", "STGCNPP", "GraphBackbone", "PSUMNet", "ctrgcn", "psumnet", "stgcn", "stgcnpp"]
