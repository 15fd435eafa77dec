from .axial_vig import AdaptViG, GreedyViG, MobileViG, MobileViGv2
from .pyramid_vig import PyramidViG
from .vig import ViG

__all__ = [
    'ViG', 'PyramidViG', 'MobileViG', 'GreedyViG', 'MobileViGv2', 'AdaptViG'
]
