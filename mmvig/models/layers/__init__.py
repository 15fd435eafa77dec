"""Layers of the Vision GNNs: convs with norms, graph convolutions, the
Graphers that own a graph builder, and the blocks and stems around them."""
from .axial_blocks import (AxialGrapher, ConditionalPosEncoding, DAGABlock,
                           GraphMixerBlock, InvertedResidual, SVGABlock)
from .blocks import FFN, ConvStem, Grapher, ViGBlock
from .conv_norm import ConvNorm
from .fuse import ConvGELU, fuse_conv_norm_act
from .graph_conv import GRAPH_CONV_TYPES, GraphConv

__all__ = [
    'AxialGrapher', 'ConditionalPosEncoding', 'DAGABlock', 'GraphMixerBlock',
    'InvertedResidual', 'SVGABlock', 'FFN',
    'ConvStem', 'Grapher', 'ViGBlock', 'ConvNorm', 'ConvGELU',
    'fuse_conv_norm_act', 'GRAPH_CONV_TYPES', 'GraphConv'
]
