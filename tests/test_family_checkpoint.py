"""MobileViG, GreedyViG, MobileViGv2 and AdaptViG checkpoints as the
authors released them: timm training checkpoints (weights, EMA weights,
optimizer state, training arguments as an argparse.Namespace), mmdet 2.x
Mask R-CNN and mmseg 0.x Semantic FPN files; all loaded strictly,
weights-only."""
import argparse
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from mmvig.checkpoint import (CheckpointError, load_file,
                              load_pretrained_backbone, to_mmvig_layout)
from mmvig.models import AdaptViG, GreedyViG, MobileViG, MobileViGv2
from .helpers import ROOT
from .test_models.family_reference import (FACTS, Reference,
                                           random_authors_state_dict)

MASK_RCNN = ROOT / 'configs' / 'mask_rcnn'
SEM_FPN = ROOT / 'configs' / 'sem_fpn'


def _training_checkpoint(name, path, args=None):
    """A file shaped like the authors' ImageNet releases (timm's
    CheckpointSaver): weights and EMA weights differ."""
    weights = random_authors_state_dict(name, seed=0)
    ema = random_authors_state_dict(name, seed=1)
    first = next(iter(weights))
    torch.save(dict(
        epoch=299, arch=name, version=2, metric=75.7,
        state_dict=weights, state_dict_ema=ema,
        optimizer=dict(state={0: dict(step=torch.tensor(300.),
                                      exp_avg=torch.zeros_like(
                                          weights[first]))},
                       param_groups=[dict(lr=1e-5, weight_decay=0.05,
                                          params=[0])]),
        # timm's scheduler and AMP scaler states, as the authors' main.py
        # saves them.
        lr_scheduler=dict(t_initial=300, base_values=[4e-3], warmup_t=20,
                          noise_range_t=None, last_epoch=299),
        scaler=dict(scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
                    growth_interval=2000, _growth_tracker=1024),
        args=args or argparse.Namespace(model=name, lr=2e-3, epochs=300,
                                        opt_betas=None, aa='rand-m9',
                                        input_size=224)), path)
    return weights, ema


def _backbone_part(authors):
    converted, _, _ = to_mmvig_layout(authors)
    return {k[len('backbone.'):]: v for k, v in converted.items()
            if k.startswith('backbone.')}


def _assert_loaded(module, expected):
    state = module.state_dict()
    assert state.keys() == expected.keys()
    for key, value in state.items():
        assert torch.equal(value, expected[key]), key


@pytest.mark.parametrize('cls,arch,name', [
    (MobileViG, 'ti', 'mobilevig_ti'), (GreedyViG, 's', 'GreedyViG_S'),
    (MobileViGv2, 'ti', 'mobilevigv2_ti'), (AdaptViG, 's', 'AdaptViG_S')])
@pytest.mark.parametrize('ema', [False, True])
def test_training_checkpoint_loads_weights_or_ema(tmp_path, cls, arch, name,
                                                  ema):
    path = tmp_path / f'{name}.pth.tar'
    weights, ema_weights = _training_checkpoint(name, path)
    model = cls(arch, init_cfg=dict(type='Pretrained', checkpoint=str(path),
                                    ema=ema))
    model.init_weights()
    _assert_loaded(model, _backbone_part(ema_weights if ema else weights))
    report = load_pretrained_backbone(cls(arch), str(path), ema=ema)
    assert f'({cls.__name__.lower()} layout' in report
    # The classifier's own layers are reported, not silently dropped.
    assert "'head.fc2_dist.weight'" in report and "'head.fc1.weight'" in report


def test_classifier_loads_strictly_through_mmengine(tmp_path):
    from mmpretrain.models import ImageClassifier
    path = tmp_path / 'MobileViG_S_78_2.pth.tar'
    weights, _ = _training_checkpoint('mobilevig_s', path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = ImageClassifier(
            backbone=dict(type='mmvig.MobileViG', arch='s'),
            head=dict(type='mmvig.DistilledViGClsHead', num_classes=1000,
                      in_channels=256, hidden_channels=512))
    load_checkpoint(model, str(path), strict=True)
    _assert_loaded(model.backbone, _backbone_part(weights))
    assert torch.equal(model.head.fc2_dist.weight,
                       weights['dist_head.weight'].flatten(1))
    assert torch.equal(model.head.norm.running_var,
                       weights['prediction.2.running_var'])


def test_ema_of_a_file_without_one_is_refused(tmp_path):
    torch.save(dict(state_dict=random_authors_state_dict('mobilevig_ti')),
               tmp_path / 'plain.pth')
    with pytest.raises(CheckpointError, match='no state_dict_ema or '
                       'model_ema entry'):
        load_pretrained_backbone(MobileViG('ti'), str(tmp_path / 'plain.pth'),
                                 ema=True)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ('touch PWNED', ))


def test_namespace_is_allowed_but_code_inside_it_is_not(tmp_path,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    _training_checkpoint('mobilevig_ti', tmp_path / 'ok.pth')
    loaded = load_file('ok.pth')
    assert isinstance(loaded['args'], argparse.Namespace)
    assert loaded['args'].lr == 2e-3 and loaded['args'].opt_betas is None

    _training_checkpoint('mobilevig_ti', tmp_path / 'evil.pth.tar',
                         args=argparse.Namespace(model=_RunsCode()))
    with pytest.raises(CheckpointError, match='could run code'):
        load_file('evil.pth.tar')
    assert not (tmp_path / 'PWNED').exists()


def _detector(config):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(MASK_RCNN / config)
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('config,name', [
    ('mask-rcnn_mobilevig-ti_fpn_1x_coco.py', 'mobilevig_ti'),
    ('mask-rcnn_greedyvig-s_fpn_1x_coco.py', 'GreedyViG_S'),
    ('mask-rcnn_mobilevigv2-ti_fpn_1x_coco.py', 'mobilevigv2_ti'),
    ('mask-rcnn_adaptvig-s_fpn_1x_coco.py', 'AdaptViG_S')])
def test_mmdet2_mask_rcnn_checkpoint_loads_into_mmdet3(tmp_path, config,
                                                       name):
    """The authors' COCO files: mmdet 2.x Mask R-CNN checkpoints whose
    backbone.* holds their layout; mmdet 3 kept the neck and head names."""
    cfg, source = _detector(config)
    authors = random_authors_state_dict(name)
    state = {k: v + 1 for k, v in source.state_dict().items()
             if not k.startswith('backbone.')}
    state.update({f'backbone.{k}': v for k, v in authors.items()
                  if not k.startswith(('prediction.', 'head.', 'dist_'))})
    meta = dict(mmdet_version='2.28.0', epoch=12, iter=87960,
                CLASSES=tuple(f'class{i}' for i in range(80)),
                config='model = dict(type="MaskRCNN")', seed=0)
    path = tmp_path / f'det_{name}.pth'
    torch.save(dict(meta=meta, state_dict=state, optimizer=dict(
        state={}, param_groups=[dict(lr=2e-5, params=[])])), path)

    _, model = _detector(config)  # as `load_from` loads it
    load_checkpoint(model, str(path), strict=True)
    _assert_loaded(model.backbone, _backbone_part(authors))
    for key in ('neck.fpn_convs.0.conv.weight', 'rpn_head.rpn_conv.weight',
                'roi_head.mask_head.conv_logits.weight'):
        assert torch.equal(model.state_dict()[key], state[key]), key

    # ... and through the backbone's init_cfg, the neck and heads reported.
    backbone = type(model.backbone)(cfg.model.backbone.arch)
    report = load_pretrained_backbone(backbone, str(path))
    _assert_loaded(backbone, _backbone_part(authors))
    assert "'neck.fpn_convs.0.conv.weight'" in report


@pytest.mark.parametrize('config,name', [
    ('fpn_mobilevigv2-m_8xb4-40k_ade20k-512x512.py', 'mobilevigv2_m'),
    ('fpn_adaptvig-s_8xb4-40k_ade20k-512x512.py', 'AdaptViG_S')])
def test_mmseg0_semantic_fpn_checkpoint_loads_into_mmseg1(tmp_path, config,
                                                          name):
    """The authors' ADE20K files: mmseg 0.x Semantic FPN checkpoints whose
    backbone.* holds their layout; mmseg 1 kept the neck and head names."""
    from mmseg.registry import MODELS
    cfg = Config.fromfile(SEM_FPN / config)
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.norm_cfg = dict(type='BN')  # one process, no SyncBN
    with DefaultScope.overwrite_default_scope('mmseg'):
        source = MODELS.build(cfg.model)
        model = MODELS.build(cfg.model)
    authors = random_authors_state_dict(name)
    state = {k: v + 1 for k, v in source.state_dict().items()
             if not k.startswith('backbone.')}
    state.update({f'backbone.{k}': v for k, v in authors.items()
                  if not k.startswith(('prediction.', 'head.', 'dist_'))})
    meta = dict(mmseg_version='0.30.0', iter=40000, CLASSES=None,
                PALETTE=None, config='model = dict(type="EncoderDecoder")')
    path = tmp_path / f'seg_{name}.pth'
    torch.save(dict(meta=meta, state_dict=state), path)

    load_checkpoint(model, str(path), strict=True)
    _assert_loaded(model.backbone, _backbone_part(authors))
    for key in ('neck.lateral_convs.0.conv.weight',
                'decode_head.conv_seg.weight'):
        assert torch.equal(model.state_dict()[key], state[key]), key


FAMILY2_IMAGENET = sorted(
    p for folder in ('mobilevigv2', 'adaptvig')
    for p in (ROOT / 'configs' / folder).glob('*_in1k.py'))


@pytest.mark.parametrize('config', FAMILY2_IMAGENET, ids=lambda p: p.name)
def test_imagenet_config_with_the_authors_checkpoint_equals_the_reference(
        tmp_path, config):
    """What users do: ``init_model(config, authors' file)`` through
    mmpretrain, then classify. Same parameters as the authors' model, and
    logits equal to the reference's on their weights, at an odd size."""
    from mmpretrain.apis import init_model
    family, arch = config.name.split('_')[0].split('-')
    name = {'mobilevigv2': f'mobilevigv2_{arch}',
            'adaptvig': f'AdaptViG_{arch.upper()}'}[family]
    path = tmp_path / f'{name}.pth.tar'
    weights, _ = _training_checkpoint(name, path)
    model = init_model(str(config), str(path), device='cpu')
    assert sum(p.numel() for p in model.parameters()) == FACTS[name][
        'params_total']
    images = torch.randn(1, 3, 67, 93,
                         generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(images, mode='tensor')
        _, expected = Reference(name, weights)(images)
    scale = expected.abs().max()
    assert (logits - expected).abs().max() <= 1e-4 * scale
