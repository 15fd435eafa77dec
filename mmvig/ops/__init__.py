"""Graph operations: building graphs (KNN and axial, behind the builders of
:mod:`~mmvig.ops.graph_builders`) and aggregating over them.

Nothing here knows about models; the layers in :mod:`mmvig.models` own a
builder and call these.
"""
from .axial_graph import (axial_max, axial_shifts, daga_threshold, grid_size,
                          logarithmic_shifts, opposite_shifts)
from .graph_builders import (AdaptiveAxialGraph, AttentionGraph, AxialGraph,
                             AxialGraphBuilder, DAGAGraph, FixedSizeKNNGraph,
                             GatedAxialGraph, GlobalAttentionGraph,
                             GraphBuilder, KNNGraph, MGCGraph,
                             NodeMapGraphBuilder, SVGAGraph,
                             build_graph_builder, graph_builders,
                             replace_builders)
from .graph_conv import gather_neighbours, max_relative
from .knn_graph import (DEFAULT_CHUNK_BYTES, capturing_graph,
                        clamp_neighbours, fixed_size_knn_graph, knn_graph,
                        relative_pos_factors, sincos_pos_embed_2d)

__all__ = [
    'axial_max', 'axial_shifts', 'daga_threshold', 'grid_size',
    'opposite_shifts', 'NodeMapGraphBuilder',
    'logarithmic_shifts', 'AdaptiveAxialGraph', 'AttentionGraph',
    'GatedAxialGraph', 'GlobalAttentionGraph', 'MGCGraph', 'AxialGraph',
    'AxialGraphBuilder', 'DAGAGraph', 'FixedSizeKNNGraph', 'GraphBuilder',
    'KNNGraph', 'SVGAGraph', 'build_graph_builder', 'graph_builders',
    'replace_builders',
    'gather_neighbours', 'max_relative', 'DEFAULT_CHUNK_BYTES',
    'capturing_graph', 'clamp_neighbours', 'fixed_size_knn_graph',
    'knn_graph', 'relative_pos_factors', 'sincos_pos_embed_2d'
]
