from .axial_vig import GreedyViG, MobileViG
from .pyramid_vig import PyramidViG
from .vig import ViG

__all__ = ['ViG', 'PyramidViG', 'MobileViG', 'GreedyViG']
