"""Models: blocks and backbones built on :mod:`mmvig.ops`, and heads."""
from .backbones import ARCH_NAMES, PyramidViG, ViG
from .heads import ViGClsHead
from .necks import SimpleFeaturePyramid  # noqa: F401  (registers the neck)

__all__ = ['ViG', 'PyramidViG', 'ViGClsHead', 'ARCH_NAMES']
