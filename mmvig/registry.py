"""mmvig's registry and how configs of other OpenMMLab projects reach it.

mmvig keeps its own ``MODELS`` registry with scope ``'mmvig'`` as a child of
mmengine's root registry, a sibling of mmpretrain's and mmdet's. mmengine
resolves a scoped name through the root, so ``type='mmvig.PyramidViG'``
builds the same class from an mmpretrain config (default scope
``'mmpretrain'``) and from an mmdet config (default scope ``'mmdet'``)::

    custom_imports = dict(imports=['mmvig'], allow_failed_imports=False)
    model = dict(backbone=dict(type='mmvig.PyramidViG', arch='small'))

Unscoped names (``type='PyramidViG'``) resolve only when the default scope is
``'mmvig'``: mmvig never writes into another project's registry.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmvig', locations=['mmvig.models'])
# ``type='mmvig.CPUAmpOptimWrapper'``: what ``tools/train.py --amp`` uses on
# machines without a GPU.
OPTIM_WRAPPERS = Registry(
    'optim wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='mmvig',
    locations=['mmvig.engine'])
