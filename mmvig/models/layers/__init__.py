from .axial_blocks import (AXIAL_GRAPHS, AxialGrapher, DAGABlock,
                           InvertedResidual, SVGABlock)
from .blocks import FFN, ConvStem, Grapher, ViGBlock
from .fuse import ConvGELU, fuse_conv_norm_act

__all__ = [
    'AXIAL_GRAPHS', 'AxialGrapher', 'DAGABlock', 'InvertedResidual',
    'SVGABlock',
    'FFN', 'ConvStem', 'Grapher', 'ViGBlock', 'ConvGELU', 'fuse_conv_norm_act'
]
