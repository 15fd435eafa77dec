"""Models: layers, backbones, heads and necks built on :mod:`mmvig.ops`, and
the table of model names."""
from .backbones import (AdaptViG, GreedyViG, MobileViG, MobileViGv2,
                        PyramidViG, ViG)
from .heads import DistilledViGClsHead, ViGClsHead
from .model_names import MODEL_NAMES, ModelName, model_name
from .necks import SimpleFeaturePyramid  # noqa: F401  (registers the neck)

__all__ = [
    'ViG', 'PyramidViG', 'MobileViG', 'GreedyViG', 'MobileViGv2', 'AdaptViG',
    'ViGClsHead',
    'DistilledViGClsHead', 'MODEL_NAMES', 'ModelName', 'model_name'
]
