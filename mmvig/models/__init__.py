"""Models: blocks and backbones built on :mod:`mmvig.ops`, and heads."""
from .backbones import ARCH_NAMES, GreedyViG, MobileViG, PyramidViG, ViG
from .heads import DistilledViGClsHead, ViGClsHead
from .necks import SimpleFeaturePyramid  # noqa: F401  (registers the neck)

__all__ = [
    'ViG', 'PyramidViG', 'MobileViG', 'GreedyViG', 'ViGClsHead',
    'DistilledViGClsHead', 'ARCH_NAMES'
]
