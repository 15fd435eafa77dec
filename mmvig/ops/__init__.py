"""Graph operators: KNN and axial graph construction, graph convolutions.

Nothing here knows about models; the models in :mod:`mmvig.models` call these.
"""
from .axial_graph import (axial_shifts, daga_aggregate, daga_threshold,
                          svga_aggregate)
from .graph_conv import (GRAPH_CONV_TYPES, ConvNorm, GraphConv,
                         gather_neighbours, max_relative)
from .knn_graph import (DEFAULT_CHUNK_BYTES, capturing_graph,
                        clamp_neighbours, knn_graph, relative_pos_factors,
                        sincos_pos_embed_2d)

__all__ = [
    'axial_shifts', 'daga_aggregate', 'daga_threshold', 'svga_aggregate',
    'GRAPH_CONV_TYPES', 'ConvNorm', 'GraphConv', 'gather_neighbours',
    'max_relative', 'DEFAULT_CHUNK_BYTES', 'capturing_graph',
    'clamp_neighbours', 'knn_graph',
    'relative_pos_factors', 'sincos_pos_embed_2d'
]
