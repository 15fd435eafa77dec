from .blocks import FFN, ConvStem, Grapher, ViGBlock

__all__ = ['FFN', 'ConvStem', 'Grapher', 'ViGBlock']
