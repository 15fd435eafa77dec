"""mmvig's segmentation configs: the training protocols, necks and heads
that fit the backbones, ImageNet weights by URL, and prediction at any size
(512x512, odd sizes, whole 2048x1024 images, sliding windows) with output
maps of the input size."""
import copy

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..helpers import (ROOT, LocalHTTPServer,
                       assert_no_decay_on_norms_and_pos_embed,
                       save_pvig_tiny_in1k)

CONFIGS = ROOT / 'configs'
RELEASES = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/'
SEM_FPN = [f'sem_fpn/fpn_pvig-{a}_4xb8-40k_ade20k-512x512.py'
           for a in ('ti', 's', 'm', 'b')]
CITYSCAPES = 'sem_fpn/fpn_pvig-s_4xb2-80k_cityscapes-512x1024.py'
UPERNET = [f'upernet/upernet_{a}_8xb2-160k_ade20k-512x512.py'
           for a in ('pvig-s', 'pvig-m', 'pvig-b', 'vig-s')]
PRETRAINED = SEM_FPN + [CITYSCAPES] + UPERNET
SYNTHETIC = 'sem_fpn/fpn_pvig-ti_1xb4-400_synthetic-seg-96x96.py'
ALL = PRETRAINED + [SYNTHETIC]
# Narrowed (see narrow()), the configs of one segmentor that differ only in
# the backbone's arch give the same model: it runs once, for all of them.
STRUCTURES = {
    SEM_FPN[1]: SEM_FPN,
    CITYSCAPES: [CITYSCAPES],
    UPERNET[0]: UPERNET[:3],
    UPERNET[3]: UPERNET[3:],
    SYNTHETIC: [SYNTHETIC],
}


def load_config(name):
    """The config without its pretrained weights (nothing downloads)."""
    cfg = Config.fromfile(CONFIGS / name)
    cfg.model.backbone.init_cfg = None
    return cfg


def build(model_cfg):
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def narrow(model_cfg, width=16, num_classes=5):
    """The same segmentor (backbone type, neck, heads, test mode), a few
    channels wide, one block per stage, without stochastic depth and with
    fewer classes: the full models are too slow to run at 512x512 in the
    fast tests (tests/test_configs.py runs them at 64x64)."""
    model_cfg = copy.deepcopy(model_cfg)
    backbone = model_cfg.backbone
    backbone.drop_path_rate = 0.
    if backbone.type == 'mmvig.PyramidViG':
        backbone.arch = dict(depths=[1, 1, 1, 1],
                             channels=[width, 2 * width, 3 * width,
                                       4 * width])
        features = backbone.arch['channels']
    else:  # isotropic: keep the depth its out_indices pick blocks from
        backbone.arch = dict(depth=16, channels=2 * width)
        features = [2 * width] * len(backbone.out_indices)
    if 'neck' in model_cfg:
        model_cfg.neck.in_channels = features
        model_cfg.neck.out_channels = width
        features = [width] * model_cfg.neck.get('num_outs', len(features))
    for head in ('decode_head', 'auxiliary_head'):
        if head in model_cfg:
            cfg = model_cfg[head]
            index = cfg.in_index
            cfg.in_channels = ([features[i] for i in index] if isinstance(
                index, (list, tuple)) else features[index])
            cfg.channels = width
            cfg.num_classes = num_classes
    return model_cfg


def _samples(height, width, num_classes=None):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(
        img_shape=(height, width), ori_shape=(height, width),
        pad_shape=(height, width)))
    if num_classes is not None:
        sample.gt_sem_seg = PixelData(
            data=torch.randint(num_classes, (1, height, width)))
    return [sample]


def _predict(model, height, width):
    model.eval()
    with torch.no_grad():
        result = model.predict(torch.randn(1, 3, height, width),
                               _samples(height, width))[0]
    return result.seg_logits.data, result.pred_sem_seg.data


def test_configs_found():
    for name in ALL:
        assert (CONFIGS / name).is_file(), name


@pytest.mark.parametrize('folder', ['sem_fpn', 'upernet'])
def test_metafile_and_readme_list_every_config(folder):
    metafile = yaml.safe_load((CONFIGS / folder / 'metafile.yml').read_text())
    readme = (CONFIGS / folder / 'README.md').read_text()
    listed = {m['Config']: m for m in metafile['Models']}
    for name in PRETRAINED:
        if name.startswith(folder + '/'):
            assert f'configs/{name}' in listed, name
    for config, model in listed.items():
        assert (ROOT / config).is_file(), config
        assert model['Name'] == (ROOT / config).stem
        assert (ROOT / config).name in readme
        metadata = model['Metadata']
        assert metadata['Parameters'] > 0 and metadata['FLOPs'] > 0


@pytest.mark.parametrize('name', PRETRAINED)
def test_imagenet_weights_of_the_same_arch(name):
    cfg = Config.fromfile(CONFIGS / name)
    init_cfg = cfg.model.backbone.init_cfg
    assert init_cfg.type == 'Pretrained'
    assert init_cfg.checkpoint.startswith(RELEASES)
    arch = name.split('/')[1].split('_')[1]  # e.g. pvig-ti
    assert init_cfg.checkpoint.rsplit('/', 1)[1].startswith(
        arch.replace('-', '_') + '_')
    assert cfg.custom_imports == dict(imports=['mmvig'],
                                      allow_failed_imports=False)
    assert cfg.default_scope == 'mmseg'
    assert cfg.model.data_preprocessor.mean == [127.5] * 3


@pytest.mark.parametrize('name', SEM_FPN + [CITYSCAPES])
def test_semantic_fpn_protocol(name):
    # PVT / PoolFormer: AdamW lr 2e-4, weight decay 1e-4, poly 0.9.
    cfg = Config.fromfile(CONFIGS / name)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == (
        'AdamW', 2e-4, 1e-4)
    poly, = cfg.param_scheduler
    assert (poly.type, poly.power, poly.begin, poly.by_epoch) == (
        'PolyLR', 0.9, 0, False)
    assert poly.end == cfg.train_cfg.max_iters
    gpus, batch = name.split('_')[-2].split('-')[0].split('xb')
    assert cfg.train_dataloader.batch_size == int(batch)
    assert cfg.auto_scale_lr.base_batch_size == int(gpus) * int(batch)
    assert cfg.model.neck.type == 'FPN'
    assert cfg.model.decode_head.type == 'FPNHead'
    crop = [t for t in cfg.train_dataloader.dataset.pipeline
            if t.type == 'RandomCrop'][0].crop_size
    assert tuple(cfg.model.data_preprocessor.size) == tuple(crop)
    if name == CITYSCAPES:
        assert cfg.train_cfg.max_iters == 80000 and batch == '2'
        assert tuple(crop) == (512, 1024)
        assert cfg.model.decode_head.num_classes == 19
        assert cfg.model.test_cfg == dict(mode='slide', crop_size=(512, 1024),
                                          stride=(384, 768))
        resize = cfg.test_dataloader.dataset.pipeline[1]
        assert resize.scale == (2048, 1024)
    else:
        # 32 images of 512x512 per iteration, 40k iterations.
        assert cfg.train_cfg.max_iters == 40000 and int(gpus) * int(
            batch) == 32
        assert tuple(crop) == (512, 512)
        assert cfg.model.decode_head.num_classes == 150


@pytest.mark.parametrize('name', UPERNET)
def test_upernet_protocol(name):
    # Swin: AdamW lr 6e-5, betas (0.9, 0.999), weight decay 0.01, 1500
    # linear warm-up iterations, poly to 160k, 16 images per iteration.
    cfg = Config.fromfile(CONFIGS / name)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.betas,
            optimizer.weight_decay) == ('AdamW', 6e-5, (0.9, 0.999), 0.01)
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 1500)
    assert (poly.type, poly.begin, poly.end) == ('PolyLR', 1500, 160000)
    assert cfg.train_cfg.max_iters == 160000
    assert cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.model.decode_head.type == 'UPerHead'
    aux = cfg.model.auxiliary_head
    assert (aux.type, aux.loss_decode.loss_weight) == ('FCNHead', 0.4)
    assert tuple(cfg.model.data_preprocessor.size) == (512, 512)


def test_no_weight_decay_on_norms_and_pos_embed():
    cfg = load_config(UPERNET[0])
    model = build(narrow(cfg.model))
    decay = assert_no_decay_on_norms_and_pos_embed(model, cfg.optim_wrapper)
    assert decay[model.backbone.stages[1].blocks[0].grapher.fc1.conv.
                 weight] == 0.01
    assert decay[model.decode_head.conv_seg.weight] == 0.01


@pytest.mark.parametrize('name', ALL)
def test_neck_and_heads_take_what_the_backbone_gives(name):
    model_cfg = load_config(name).model
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    backbone = MODELS.build(model_cfg.backbone)
    features = backbone.out_channels
    assert model_cfg.backbone.type.startswith('mmvig.')
    if 'neck' in model_cfg:
        assert model_cfg.neck.in_channels == features
        features = [model_cfg.neck.out_channels] * model_cfg.neck.get(
            'num_outs', len(features))
    head = model_cfg.decode_head
    assert head.in_channels == [features[i] for i in head.in_index]
    if 'auxiliary_head' in model_cfg:
        aux = model_cfg.auxiliary_head
        assert aux.in_channels == features[aux.in_index]


def test_structures_cover_every_config():
    assert sorted(sum(STRUCTURES.values(), [])) == sorted(ALL)
    for name, same in STRUCTURES.items():
        for other in same:
            assert narrow(load_config(other).model) == narrow(
                load_config(name).model), other


@pytest.mark.parametrize('name', STRUCTURES)
def test_train_step_and_prediction_at_512_and_an_odd_size(name):
    model_cfg = narrow(load_config(name).model)
    model = build(model_cfg)
    num_classes = model_cfg.decode_head.num_classes
    model.train()
    # Two images: the pooling branch of UperNet normalises 1x1 maps.
    losses = model.loss(torch.randn(2, 3, 333, 517),
                        _samples(333, 517, num_classes) * 2)
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.stem[0].conv.weight.grad is not None
    for height, width in ((512, 512), (333, 517)):
        logits, labels = _predict(model, height, width)
        assert logits.shape == (num_classes, height, width)
        assert labels.shape == (1, height, width)
        assert torch.equal(labels[0], logits.argmax(0))


def test_whole_image_inference_at_2048x1024():
    # Stage 1 of a 2048x1024 image has 131,072 nodes and 8,192 pooled keys:
    # the chunked KNN never holds their 4 GiB distance matrix.
    cfg = load_config(CITYSCAPES).model
    cfg.test_cfg = dict(mode='whole')
    model = build(narrow(cfg, width=8))
    logits, labels = _predict(model, 1024, 2048)
    assert logits.shape == (5, 1024, 2048)
    assert labels.shape == (1, 1024, 2048)


def test_sliding_window_inference_at_any_size():
    cfg = load_config(CITYSCAPES).model
    cfg.test_cfg.update(crop_size=(256, 256), stride=(171, 171))
    model = build(narrow(cfg))
    logits, labels = _predict(model, 333, 517)
    assert logits.shape == (5, 333, 517)
    assert labels.shape == (1, 333, 517)
    # One window covering the image predicts what the whole image does.
    image = torch.randn(1, 3, 200, 300)
    model.test_cfg.update(crop_size=(256, 384))
    with torch.no_grad():
        slide = model.predict(image, _samples(200, 300))[0]
        model.test_cfg.mode = 'whole'
        whole = model.predict(image, _samples(200, 300))[0]
    torch.testing.assert_close(slide.seg_logits.data, whole.seg_logits.data)


def test_imagenet_weights_by_url_load_into_the_segmentor(tmp_path,
                                                        monkeypatch):
    """The configs' init_cfg path: a classifier checkpoint (here in
    mmpretrain's layout) given as a URL fills the segmentor's backbone."""
    expected = save_pvig_tiny_in1k(tmp_path / 'pvig_ti_in1k.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))

    cfg = Config.fromfile(CONFIGS / SEM_FPN[0])
    with LocalHTTPServer(tmp_path) as server:
        cfg.model.backbone.init_cfg.checkpoint = \
            f'{server.url}/pvig_ti_in1k.pth'
        model = build(cfg.model)
    assert server.requests == ['/pvig_ti_in1k.pth']
    loaded = model.backbone.state_dict()
    assert {f'backbone.{k}' for k in loaded} == set(expected)
    for name, value in loaded.items():
        assert torch.equal(value, expected[f'backbone.{name}']), name
