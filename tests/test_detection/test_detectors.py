"""mmvig's detection configs: settings, odd input sizes, frozen stages and
norm_eval inside the detector."""
import glob
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from ..helpers import (ROOT, LocalHTTPServer,
                       assert_no_decay_on_norms_and_pos_embed,
                       save_pvig_tiny_in1k)

CONFIGS = str(ROOT / 'configs')
DETECTION_CONFIGS = sorted(
    glob.glob(osp.join(CONFIGS, 'retinanet', '*.py')) +
    glob.glob(osp.join(CONFIGS, 'mask_rcnn', '*.py')))
COCO_CONFIGS = [p for p in DETECTION_CONFIGS if p.endswith('_1x_coco.py')]
FAMILY = ('mobilevig', 'greedyvig', 'mobilevigv2', 'adaptvig')
FAMILY_COCO_CONFIGS = [p for p in COCO_CONFIGS
                       if osp.basename(p).split('_')[1].startswith(FAMILY)]
VIG_COCO_CONFIGS = [p for p in COCO_CONFIGS if p not in FAMILY_COCO_CONFIGS]
RELEASES = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/'
RETINANET_TI = osp.join(CONFIGS, 'retinanet',
                        'retinanet_pvig-ti_fpn_1x_coco.py')
MASK_RCNN_TI = osp.join(CONFIGS, 'mask_rcnn',
                        'mask-rcnn_pvig-ti_fpn_1x_coco.py')


def load_config(path, **backbone):
    """The config without its pretrained weights (nothing downloads)."""
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.update(backbone)
    return cfg


def build(model_cfg):
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def test_configs_found():
    names = {osp.basename(p) for p in COCO_CONFIGS}
    for arch in ('ti', 's', 'm', 'b'):
        assert f'retinanet_pvig-{arch}_fpn_1x_coco.py' in names
        assert f'mask-rcnn_pvig-{arch}_fpn_1x_coco.py' in names
    assert 'mask-rcnn_vig-s_simple-fpn_1x_coco.py' in names


@pytest.mark.parametrize('folder', ['retinanet', 'mask_rcnn'])
def test_metafile_lists_every_coco_config(folder):
    with open(osp.join(CONFIGS, folder, 'metafile.yml')) as f:
        listed = {model['Config'] for model in yaml.safe_load(f)['Models']}
    assert listed == {
        f'configs/{folder}/{osp.basename(p)}' for p in COCO_CONFIGS
        if osp.basename(osp.dirname(p)) == folder
    }


@pytest.mark.parametrize('path', DETECTION_CONFIGS, ids=osp.basename)
def test_neck_takes_what_the_backbone_gives(path):
    cfg = load_config(path)
    assert cfg.custom_imports == dict(imports=['mmvig'],
                                      allow_failed_imports=False)
    assert cfg.default_scope == 'mmdet'
    assert cfg.model.backbone.type.startswith('mmvig.')
    backbone = build(cfg.model.backbone)
    in_channels = cfg.model.neck.in_channels
    expected = backbone.out_channels
    if cfg.model.neck.type == 'mmvig.SimpleFeaturePyramid':
        assert len(expected) == 1, 'the simple pyramid takes one output'
        expected = expected[0]
    else:
        assert backbone.out_indices == [0, 1, 2, 3]
    assert in_channels == expected


@pytest.mark.parametrize('path', VIG_COCO_CONFIGS, ids=osp.basename)
def test_coco_recipe(path):
    cfg = Config.fromfile(path)
    # ImageNet weights of the same arch from the authors' release.
    checkpoint = cfg.model.backbone.init_cfg.checkpoint
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    assert checkpoint.startswith(RELEASES)
    name = osp.basename(path).split('_')[1]  # e.g. pvig-ti
    assert osp.basename(checkpoint).startswith(name.replace('-', '_') + '_')
    resize = [t for t in cfg.train_dataloader.dataset.pipeline
              if t.type == 'Resize']
    assert resize[0].scale == (1333, 800)
    assert cfg.train_cfg.max_epochs == 12
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == (
        'AdamW', 1e-4, 0.05)


@pytest.mark.parametrize('path', FAMILY_COCO_CONFIGS, ids=osp.basename)
def test_family_coco_recipe(path):
    """The authors' detectors (mmdet 2.28): EMA weights of their ImageNet
    training checkpoint, SyncBN trained (not frozen), timm's mean and std;
    Mask R-CNN with AdamW lr 2e-4 (RetinaNet: mmvig's 1e-4), 1x at
    1333x800."""
    cfg = Config.fromfile(path)
    backbone = cfg.model.backbone
    family, arch = osp.basename(path).split('_')[1].split('-')
    assert backbone.type.lower() == f'mmvig.{family}'
    assert backbone.arch == arch
    assert backbone.norm_cfg.type == 'SyncBN' and not backbone.get(
        'norm_eval', False)
    assert backbone.drop_path_rate == 0.1
    assert backbone.init_cfg.ema and backbone.init_cfg.type == 'Pretrained'
    assert cfg.model.data_preprocessor.std == [58.395, 57.12, 57.375]
    resize = [t for t in cfg.train_dataloader.dataset.pipeline
              if t.type == 'Resize']
    assert resize[0].scale == (1333, 800)
    assert cfg.train_cfg.max_epochs == 12
    optimizer = cfg.optim_wrapper.optimizer
    lr = 2e-4 if 'mask_rcnn' in path else 1e-4
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == (
        'AdamW', lr, 0.05)


def test_no_weight_decay_on_norms_and_pos_embed():
    cfg = load_config(RETINANET_TI)
    model = build(cfg.model)
    decay = assert_no_decay_on_norms_and_pos_embed(model, cfg.optim_wrapper)
    assert decay[model.backbone.stages[1].blocks[0].grapher.fc1.conv.
                 weight] == 0.05
    assert decay[model.bbox_head.retina_cls.weight] == 0.05


def test_imagenet_weights_by_url_load_into_the_detector(tmp_path,
                                                       monkeypatch):
    """The configs' init_cfg path: a classifier checkpoint (here in
    mmpretrain's layout) given as a URL fills the detector's backbone."""
    expected = save_pvig_tiny_in1k(tmp_path / 'pvig_ti_in1k.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))

    cfg = Config.fromfile(RETINANET_TI)
    with LocalHTTPServer(tmp_path) as server:
        cfg.model.backbone.init_cfg.checkpoint = \
            f'{server.url}/pvig_ti_in1k.pth'
        model = build(cfg.model)
    assert server.requests == ['/pvig_ti_in1k.pth']
    loaded = model.backbone.state_dict()
    assert {f'backbone.{k}' for k in loaded} == set(expected)
    for name, value in loaded.items():
        assert torch.equal(value, expected[f'backbone.{name}']), name


def _inputs(height, width, with_mask):
    from mmdet.testing import demo_mm_inputs
    return demo_mm_inputs(
        batch_size=1, image_shapes=(3, height, width), num_classes=80,
        with_mask=with_mask)


@pytest.mark.parametrize('name', [
    'retinanet/retinanet_pvig-ti_fpn_1x_coco.py',
    'mask_rcnn/mask-rcnn_pvig-ti_fpn_1x_coco.py',
    'mask_rcnn/mask-rcnn_vig-s_simple-fpn_1x_coco.py',
    'mask_rcnn/mask-rcnn_mobilevig-ti_fpn_1x_coco.py',
])
def test_train_and_predict_at_an_odd_size(name):
    cfg = load_config(osp.join(CONFIGS, name))
    model = build(cfg.model)
    with_mask = 'roi_head' in cfg.model
    packed = _inputs(333, 517, with_mask)

    model.train()
    losses = model(**model.data_preprocessor(packed, True), mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.stem[0].conv.weight.grad is not None

    model.eval()
    with torch.no_grad():
        result = model(**model.data_preprocessor(packed, False),
                       mode='predict')[0]
    assert result.pred_instances.bboxes.shape[1] == 4
    if with_mask:
        # Masks are pasted back at the original, unpadded size.
        assert result.pred_instances.masks.shape[1:] == (333, 517)


def test_roi_features_are_read_from_the_feature_maps():
    # mmcv's CPU RoIAlign reads NCHW memory: whatever memory format the
    # backbone computes in, the RoI features must be those of the maps.
    model = build(load_config(MASK_RCNN_TI).model).eval()
    extractor = model.roi_head.bbox_roi_extractor
    rois = torch.tensor([[0, 8., 16., 90., 120.], [0, 100., 40., 180., 150.]])
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 160, 192))
        feats = feats[:extractor.num_inputs]
        got = extractor(feats, rois)
        expected = extractor([f.contiguous() for f in feats], rois)
    assert torch.equal(got, expected)  # the same kernel on the same values


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('norm_eval', [True, False])
def test_frozen_stages_and_norm_eval_in_the_detector(norm_eval):
    cfg = load_config(RETINANET_TI, frozen_stages=1, norm_eval=norm_eval)
    model = build(cfg.model)
    model.train()  # what the runner does; must not undo the freezing
    backbone = model.backbone
    frozen = ('stem.', 'pos_embed', 'stages.0.')
    for name, param in backbone.named_parameters():
        assert param.requires_grad != name.startswith(frozen), name
    for name, module in backbone.named_modules():
        if isinstance(module, _BatchNorm):
            assert module.training == (
                not norm_eval and not name.startswith(frozen)), name
    assert model.neck.training and model.bbox_head.training

    before = _snapshot(backbone)
    optim_wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='SGD', lr=0.1)))
    model.train_step(_inputs(192, 192, False), optim_wrapper)
    after = _snapshot(backbone)
    for name, value in after.items():
        running = 'running_' in name or 'num_batches' in name
        if name.startswith(frozen) or (running and norm_eval):
            assert torch.equal(value, before[name]), name
    trained = 'stages.1.blocks.0.grapher.fc1.conv.weight'
    assert not torch.equal(after[trained], before[trained])
    stats = 'stages.1.blocks.0.grapher.fc1.norm.running_mean'
    assert torch.equal(after[stats], before[stats]) == norm_eval
