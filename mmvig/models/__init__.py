"""Models: blocks and backbones built on :mod:`mmvig.ops`, and heads."""
from .backbones import PyramidViG, ViG
from .heads import ViGClsHead

__all__ = ['ViG', 'PyramidViG', 'ViGClsHead']
