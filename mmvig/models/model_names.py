"""The short names of mmvig's models, one table for every family.

``'pvig-s'`` names Pyramid ViG with ``arch='small'`` and its classification
head. Tools (``model_table.py``, ``benchmark.py``), the converters and the
docs take their model names from :data:`MODEL_NAMES`; config files follow
the same names (``configs/pvig/pvig-s_8xb128_in1k.py``).
"""
from dataclasses import dataclass

from .backbones import (AdaptViG, GreedyViG, MobileViG, MobileViGv2,
                        PyramidViG, ViG)
from .heads import DistilledViGClsHead, ViGClsHead

#: Short arch names and the long ones every backbone also accepts.
ARCH_ALIASES = {'ti': 'tiny', 's': 'small', 'm': 'medium', 'b': 'base'}


@dataclass(frozen=True)
class ModelName:
    """One named classification model.

    Attributes:
        backbone (type): the backbone class.
        arch (str): its ``arch`` (the short name).
        head (type): the head class.
        hidden_channels (int): the head's hidden width.
        mmpretrain (str, optional): the class of mmpretrain's port of the
            same backbone (the numerical reference), if there is one.
    """
    backbone: type
    arch: str
    head: type
    hidden_channels: int
    mmpretrain: str = None

    def build_backbone(self, **kwargs):
        return self.backbone(self.arch, **kwargs)

    def build_head(self, in_channels, num_classes=1000, **kwargs):
        return self.head(num_classes, in_channels,
                         hidden_channels=self.hidden_channels, **kwargs)


def _family(prefix, backbone, head, hidden, mmpretrain=None):
    """``{prefix}-{short arch}`` for each arch of ``backbone``; ``hidden``
    gives the head's width of a (short) arch."""
    return {f'{prefix}-{short}': ModelName(backbone, short, head,
                                           hidden(short), mmpretrain)
            for short in ARCH_ALIASES if short in backbone.arch_settings}


#: ``name -> ModelName`` for every model mmvig builds.
MODEL_NAMES = {
    **_family('vig', ViG, ViGClsHead, lambda arch: 1024, 'Vig'),
    **_family('pvig', PyramidViG, ViGClsHead, lambda arch: 1024,
              'PyramidVig'),
    **_family('mobilevig', MobileViG, DistilledViGClsHead,
              lambda arch: 512 if arch in ('ti', 's') else 768),
    **_family('greedyvig', GreedyViG, DistilledViGClsHead, lambda arch: 768),
    **_family('mobilevigv2', MobileViGv2, DistilledViGClsHead,
              lambda arch: 768 if arch == 'b' else 512),
    **_family('adaptvig', AdaptViG, DistilledViGClsHead, lambda arch: 768),
}


def model_name(name):
    """The :class:`ModelName` of ``name``, with an error listing the names
    when it is unknown."""
    if name not in MODEL_NAMES:
        raise KeyError(f'unknown model name {name!r}; choose from '
                       f'{", ".join(MODEL_NAMES)}')
    return MODEL_NAMES[name]


__all__ = ['ARCH_ALIASES', 'ModelName', 'MODEL_NAMES', 'model_name']
