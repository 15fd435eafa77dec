"""mmdet's ``DetInferencer`` and mmseg's ``MMSegInferencer`` that also take
mmvig's model names.

mmdet's and mmseg's inferencers look a model name up only in the metafiles
of the package of their scope (mmengine's ``BaseInferencer`` knows a fixed
list of OpenMMLab packages), so ``mmdet.apis.DetInferencer(
'retinanet_pvig-s_fpn_1x_coco')`` cannot find mmvig's models. These
subclasses look names up in mmvig's model index instead and are otherwise
mmdet's and mmseg's::

    from mmvig.inferencers import DetInferencer
    DetInferencer('retinanet_pvig-ti_fpn_1x_coco', weights='ckpt.pth')

mmdet and mmseg are imported on first use of the class, so each needs only
its own extra (``mmvig[det]``, ``mmvig[seg]``).
"""
from mmengine.config import Config

from .hub import find_model

_BASES = {
    'DetInferencer': ('mmdet.apis', 'DetInferencer'),
    'MMSegInferencer': ('mmseg.apis', 'MMSegInferencer'),
}
__all__ = list(_BASES)


class MmvigModelNames:
    """Resolves a model name through :func:`mmvig.hub.find_model`."""

    def _load_model_from_metafile(self, model):
        config, weights = find_model(model)
        return Config.fromfile(config), weights


def __getattr__(name):
    if name not in _BASES:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    import importlib
    module, base = _BASES[name]
    base = getattr(importlib.import_module(module), base)
    cls = type(name, (MmvigModelNames, base), {
        '__doc__': f'{base.__module__}.{base.__name__} that also takes '
                   "mmvig's model names.",
        '__module__': __name__,
    })
    globals()[name] = cls
    return cls
