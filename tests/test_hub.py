"""mmvig's models by name: mmpretrain's model hub (list_models, get_model,
ImageClassificationInferencer) and mmvig's thin mmdet / mmseg inferencers."""
import textwrap

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

import mmvig  # noqa: F401  (registers the models)
from mmvig.hub import CLASSIFICATION, find_model, metafiles, tasks

from .helpers import ROOT, LocalHTTPServer

MMPRETRAIN_VIGS = {
    'vig-tiny_3rdparty_in1k', 'vig-small_3rdparty_in1k',
    'vig-base_3rdparty_in1k', 'pvig-tiny_3rdparty_in1k',
    'pvig-small_3rdparty_in1k', 'pvig-medium_3rdparty_in1k',
    'pvig-base_3rdparty_in1k'
}


def mmvig_names(task=None):
    """Names of the models of every metafile (of ``task``'s metafiles)."""
    return {model['Name'] for models in metafiles().values()
            if task is None or tasks(models) == {task} for model in models}


def test_model_index_imports_every_metafile():
    import yaml
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    assert sorted(index['Import']) == sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / 'configs').glob('*/metafile.yml'))


def test_classification_metafiles_say_where_weights_come_from():
    """mmpretrain's style: Converted From (weights and code) for every
    converted model, Top-5 where the paper publishes it (ViG, Pyramid ViG),
    a direct Weights URL where its file is known."""
    classifiers = [model for models in metafiles().values()
                   if tasks(models) == {CLASSIFICATION} for model in models]
    assert len(classifiers) == 21  # every arch of mmvig.models.MODEL_NAMES
    for model in classifiers:
        source = model['Converted From']
        assert source['Weights'].startswith('https://'), model['Name']
        assert source['Code'].startswith('https://github.com/'), model['Name']
        if model['Name'].startswith(('vig-', 'pvig-')):
            metrics = model['Results'][0]['Metrics']
            assert 90 < metrics['Top 5 Accuracy'] < 97, model['Name']
            assert model['Weights'] == source['Weights']


def test_list_models_shows_mmvig_and_mmpretrain_vigs_side_by_side():
    from mmpretrain import list_models
    classifiers = mmvig_names(CLASSIFICATION)
    assert {'vig-ti_3rdparty_in1k', 'pvig-s_3rdparty_in1k',
            'mobilevig-m_3rdparty_in1k',
            'greedyvig-b_3rdparty_in1k'} <= classifiers
    listed = set(list_models('*vig*'))
    assert listed == classifiers | MMPRETRAIN_VIGS
    assert not classifiers & MMPRETRAIN_VIGS
    # Detection and segmentation models stay out of mmpretrain's hub.
    assert 'retinanet_pvig-s_fpn_1x_coco' not in set(list_models())
    # A second registration (importing again) adds nothing and raises nothing.
    mmvig.hub.register_classification_models()
    assert set(list_models('*vig*')) == listed


def _served_model(tmp_path):
    """A Pyramid ViG-Ti classifier checkpoint with 10 classes (random
    weights) in a folder to serve; returns (folder, state dict)."""
    from mmpretrain import get_model
    model = get_model('pvig-ti_3rdparty_in1k', head=dict(num_classes=10))
    served = tmp_path / 'served'
    served.mkdir()
    torch.save(dict(state_dict=model.state_dict()), served / 'pvig-ti.pth')
    return served, model.state_dict()


def _register(tmp_path, name, weights):
    """A temporary metafile naming ``weights`` for ``name`` (mmvig's real
    metafiles name the authors' remote files), registered in the hub."""
    from mmpretrain.apis.model import ModelHub
    metafile = tmp_path / 'metafile.yml'
    metafile.write_text(textwrap.dedent(f'''
        Models:
          - Name: {name}
            Results:
              - Dataset: ImageNet-1k
                Task: Image Classification
                Metrics:
                  Top 1 Accuracy: 0.0
            Weights: {weights}
            Config: {ROOT}/configs/pvig/pvig-ti_8xb128_in1k.py
    '''))
    ModelHub.register_model_index(metafile)


def test_get_model_by_name_with_pretrained_true_or_a_path(tmp_path,
                                                          monkeypatch):
    from mmpretrain import get_model
    from mmpretrain.apis.model import ModelHub
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    served, expected = _served_model(tmp_path)
    name = 'pvig-ti_served-by-test'
    with LocalHTTPServer(served) as server:
        # The hub as it is, with the test's model added only until the end.
        monkeypatch.setattr(ModelHub, '_models_dict',
                            dict(ModelHub._models_dict))
        _register(tmp_path, name, f'{server.url}/pvig-ti.pth')
        by_url = get_model(name, pretrained=True, head=dict(num_classes=10))
    assert server.requests == ['/pvig-ti.pth']
    by_path = get_model('pvig-ti_3rdparty_in1k',
                        pretrained=str(served / 'pvig-ti.pth'),
                        head=dict(num_classes=10))
    for model in (by_url, by_path):
        assert type(model.backbone).__module__.startswith('mmvig.')
        state = model.state_dict()
        assert state.keys() == expected.keys()
        assert all(torch.equal(state[k], expected[k]) for k in expected)


def test_image_classification_inferencer_by_name(tmp_path):
    from mmpretrain import ImageClassificationInferencer
    served, _ = _served_model(tmp_path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # not leaked
        inferencer = ImageClassificationInferencer(
            'pvig-ti_3rdparty_in1k', pretrained=str(served / 'pvig-ti.pth'),
            head=dict(num_classes=10), device='cpu')
        image = np.random.default_rng(0).integers(0, 255, (64, 80, 3),
                                                  np.uint8)
        result, = inferencer(image)
    assert result['pred_scores'].shape == (10, )
    assert np.isclose(result['pred_scores'].sum(), 1, atol=1e-5)


def test_find_model_covers_every_task_and_names_the_choices():
    config, weights = find_model('RetinaNet_PViG-Ti_FPN_1x_COCO')
    assert config.endswith('configs/retinanet/retinanet_pvig-ti_fpn_1x_coco.py')
    config, weights = find_model('vig-s_3rdparty_in1k')
    assert weights.startswith('https://github.com/huawei-noah/')
    with pytest.raises(ValueError, match="no model named 'pvig-small_3rdparty"
                       r"_in1k'.*pvig-s_3rdparty_in1k"):
        find_model('pvig-small_3rdparty_in1k')


@pytest.mark.parametrize('inferencer, name, library', [
    ('DetInferencer', 'retinanet_pvig-ti_fpn_1x_coco', 'mmdet'),
    ('MMSegInferencer', 'fpn_pvig-ti_4xb8-40k_ade20k-512x512', 'mmseg'),
])
def test_task_inferencers_take_mmvig_names(inferencer, name, library):
    import importlib
    from mmvig import inferencers
    cls = getattr(inferencers, inferencer)
    base = getattr(importlib.import_module(f'{library}.apis'), inferencer)
    assert issubclass(cls, base)
    with DefaultScope.overwrite_default_scope(library):  # not leaked
        # The library's own inferencer looks only in its own metafiles.
        with pytest.raises(ValueError, match='Cannot find model'):
            base(name, device='cpu')
        with pytest.warns(UserWarning, match='random'):
            model = cls(name, device='cpu').model
    assert type(model.backbone).__name__ == 'PyramidViG'
