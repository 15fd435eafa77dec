from .blocks import FFN, ConvStem, Grapher, ViGBlock
from .fuse import ConvGELU, fuse_conv_norm_act

__all__ = [
    'FFN', 'ConvStem', 'Grapher', 'ViGBlock', 'ConvGELU', 'fuse_conv_norm_act'
]
