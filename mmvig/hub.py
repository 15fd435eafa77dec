"""mmvig's models by name, in mmpretrain's model hub and in ``mim``.

``mim`` and mmpretrain read a package's ``.mim/model-index.yml``, which
imports every ``configs/*/metafile.yml``. An installed mmvig carries them in
``mmvig/.mim`` (copied into wheels and sdists, linked for editable installs:
see setup.py); a checkout on ``PYTHONPATH`` has them at its root.

Importing mmvig registers the classification metafiles in mmpretrain's
``ModelHub``, so that ``mmpretrain.list_models('*vig*')``,
``get_model(name, pretrained=True)`` and ``ImageClassificationInferencer(name)``
know them. Their names (``pvig-s_3rdparty_in1k``) differ from mmpretrain's
own ViG entries (``pvig-small_3rdparty_in1k``); a clash would raise in
``ModelHub.register_model_index``. Detection and segmentation models are not
registered there: mmpretrain builds every hub entry with its own registry.
"""
from pathlib import Path

import yaml

CLASSIFICATION = 'Image Classification'


def mim_root():
    """The folder holding ``model-index.yml`` and ``configs/``: the
    checkout's root when mmvig is imported from one (a copy that building a
    wheel left in ``mmvig/.mim`` may be stale), else ``mmvig/.mim``."""
    package = Path(__file__).resolve().parent
    checkout = package.parent
    return checkout if (checkout / 'model-index.yml').is_file() \
        else package / '.mim'


def metafiles(root=None):
    """``{path: models}`` of every metafile the model index imports; each
    model a dict as in the metafile."""
    root = Path(root or mim_root())
    index = yaml.safe_load((root / 'model-index.yml').read_text())
    return {
        root / name: yaml.safe_load((root / name).read_text())['Models']
        for name in index['Import']
    }


def tasks(models):
    """The set of tasks the results of ``models`` report."""
    return {result['Task'] for model in models
            for result in model.get('Results', [])}


def register_classification_models():
    """Register mmvig's classification metafiles in mmpretrain's
    ``ModelHub`` (once: a second call finds them there)."""
    from mmpretrain.apis.model import ModelHub
    root = mim_root()
    for path, models in metafiles(root).items():
        if tasks(models) == {CLASSIFICATION} and not ModelHub.has(
                models[0]['Name'].lower()):
            ModelHub.register_model_index(path, config_prefix=root)


def find_model(name):
    """``(config path, weights or None)`` of mmvig's model ``name`` (any
    task), as ``mim`` and the inferencers see it.

    Raises:
        ValueError: no mmvig model has that name (the message lists them).
    """
    root = mim_root()
    names = []
    for models in metafiles(root).values():
        for model in models:
            if model['Name'].lower() == name.lower():
                return str(root / model['Config']), model.get('Weights')
            names.append(model['Name'])
    raise ValueError(f'mmvig has no model named {name!r}; its models: '
                     f'{", ".join(sorted(names))}')
