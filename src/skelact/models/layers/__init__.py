"""Building blocks shared by the backbones: graph convolutions, temporal convolutions."""

from skelact.models.layers.ctr_graph_conv import CTRGraphConv
from skelact.models.layers.graph_conv import ADAPTIVE_MODES, GraphConv, graph_aggregate
from skelact.models.layers.multiscale_temporal import MultiScaleTemporalConv
from skelact.models.layers.temporal_conv import TemporalConv

__all__ = [
    "ADAPTIVE_MODES",
    "CTRGraphConv",
    "GraphConv",
    "MultiScaleTemporalConv",
    "TemporalConv",
    "graph_aggregate",
]
