"""mmvig: Vision GNN (ViG, Pyramid ViG) for OpenMMLab.

Importing mmvig registers its modules in the ``mmvig`` scope (see
:mod:`mmvig.registry`), which is what
``custom_imports=dict(imports=['mmvig'], allow_failed_imports=False)`` in an
mmpretrain or mmdet config relies on. It also routes mmengine's checkpoint
loading through :func:`mmvig.checkpoint.load_file`: weights-only, with the
authors' and mmpretrain's ViG layouts converted on the fly, and registers
mmvig's classification models by name in mmpretrain's model hub
(:mod:`mmvig.hub`).
"""
from .version import __version__
from . import models  # noqa: F401,E402  (registers the modules)
from .checkpoint import register_mmengine_loaders  # noqa: E402
from .hub import register_classification_models  # noqa: E402

register_mmengine_loaders()
register_classification_models()

__all__ = ['__version__']
