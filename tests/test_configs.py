"""Every config in configs/ builds and runs.

Each config (classification, detection and segmentation alike, found by
glob) has its
model built through the registry of its ``default_scope``, its data
pipelines built, and one forward at a small size. The ImageNet configs are
also checked against the paper's recipe (Table 3).
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import MODELS, DefaultScope

from .helpers import ROOT, rounding_tol
CONFIGS = sorted(
    p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)
IMAGENET = [p for p in CONFIGS if p.stem.endswith('_in1k')]
VIG_IMAGENET = [p for p in IMAGENET if p.parent.name in ('vig', 'pvig')]
FAMILIES = ('mobilevig', 'greedyvig', 'mobilevigv2', 'adaptvig')
FAMILY_IMAGENET = [p for p in IMAGENET if p.parent.name in FAMILIES]
# Input side of the forward: the smallest sizes every stage handles.
SIZE = dict(mmpretrain=64, mmdet=128, mmseg=64)


def _id(path):
    return str(path.relative_to(ROOT / 'configs'))


def _fake_batch(scope, size):
    """One random uint8 image and the data sample the scope's models
    expect."""
    image = torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
    if scope == 'mmpretrain':
        from mmpretrain.structures import DataSample
        sample = DataSample()
    elif scope == 'mmdet':
        from mmdet.structures import DetDataSample
        sample = DetDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            scale_factor=(1., 1.)))
    else:
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            pad_shape=(size, size)))
    return dict(inputs=[image], data_samples=[sample])


def test_configs_are_found():
    # Guards the glob: the classification configs of this repository.
    names = {p.name for p in CONFIGS}
    assert {'vig-ti_8xb128_in1k.py', 'pvig-b_8xb128_in1k.py',
            'pvig-ti_1xb64_digits.py', 'mobilevig-ti_8xb128_in1k.py',
            'greedyvig-b_16xb128_in1k.py'} <= names
    assert (len(VIG_IMAGENET), len(FAMILY_IMAGENET)) == (7, 14)


@pytest.mark.parametrize('path', CONFIGS, ids=_id)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    assert 'mmvig' in cfg.custom_imports['imports']
    scope = cfg.default_scope
    assert scope in SIZE, f'{path}: unexpected default_scope {scope!r}'
    model_cfg = cfg.model
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(model_cfg).eval()
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            if cfg.get(loader):
                Compose(cfg[loader].dataset.pipeline)
        with torch.no_grad():
            results = model.test_step(_fake_batch(scope, SIZE[scope]))
    assert len(results) == 1
    if scope == 'mmpretrain':
        scores = results[0].pred_score
        assert scores.shape == (cfg.model.head.num_classes, )
        # A softmax sums to 1 up to the rounding of its num_classes terms.
        assert abs(scores.sum().item() - 1) <= rounding_tol(
            cfg.model.head.num_classes, 1)
    elif scope == 'mmdet':
        assert 'pred_instances' in results[0]
    else:
        assert results[0].pred_sem_seg.shape == (SIZE[scope], ) * 2


def _paper_drop_path(arch):
    return 0.3 if arch == 'base' else 0.1


@pytest.mark.parametrize('path', VIG_IMAGENET, ids=_id)
def test_imagenet_configs_follow_the_paper_recipe(path):
    cfg = Config.fromfile(path)
    arch = cfg.model.backbone.arch
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == (
        'AdamW', 1e-3, 0.05)
    # lr 1e-3 is for batch 1024 = 8 GPUs x 128.
    assert cfg.train_dataloader.batch_size * 8 == 1024
    assert cfg.auto_scale_lr.base_batch_size == 1024
    assert cfg.train_cfg.max_epochs == 300
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end) == ('LinearLR', 20)
    assert (cosine.type, cosine.begin, cosine.end) == (
        'CosineAnnealingLR', 20, 300)
    ema, = [h for h in cfg.custom_hooks if h.type == 'EMAHook']
    assert ema.momentum == pytest.approx(1 - 0.99996)

    assert cfg.model.backbone.drop_path_rate == _paper_drop_path(arch)
    assert cfg.model.head.loss.label_smooth_val == 0.1
    assert [(a.type, a.alpha) for a in cfg.model.train_cfg.augments] == [
        ('Mixup', 0.8), ('CutMix', 1.0)]
    assert cfg.train_dataloader.sampler.type == 'RepeatAugSampler'
    transforms = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert transforms['RandAugment'].magnitude_level == 9
    assert transforms['RandomErasing'].erase_prob == 0.25
    assert cfg.data_preprocessor.mean == cfg.data_preprocessor.std == [
        127.5] * 3

    resize = 235 if path.stem.startswith('pvig-b') else 248
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        transforms = {t.type: t for t in loader.dataset.pipeline}
        assert transforms['ResizeEdge'].scale == resize
        assert transforms['ResizeEdge'].interpolation == 'bicubic'
        assert transforms['CenterCrop'].crop_size == 224


@pytest.mark.parametrize('folder', ['vig', 'pvig'])
def test_model_zoo_lists_every_imagenet_config(folder):
    import yaml
    metafile = yaml.safe_load(
        (ROOT / 'configs' / folder / 'metafile.yml').read_text())
    listed = {m['Config'] for m in metafile['Models']}
    expected = {f'configs/{folder}/{p.name}' for p in IMAGENET
                if p.parent.name == folder}
    assert listed == expected
    readme = (ROOT / 'configs' / folder / 'README.md').read_text()
    for model in metafile['Models']:
        assert (ROOT / model['Config']).is_file()
        assert model['Weights'].startswith(
            'https://github.com/huawei-noah/Efficient-AI-Backbones/'
            'releases/download/')
        assert model['Weights'] in readme


@pytest.mark.parametrize('path', FAMILY_IMAGENET, ids=_id)
def test_family_configs_follow_the_authors_recipe(path):
    """The family's main.py (MobileViG's, and the others' copies of it):
    lr 2e-3 per 1024 images,
    warm-up from 1e-6, timm's mean / std, crop ratio 0.9, both heads."""
    cfg = Config.fromfile(path)
    gpus, batch = map(int, path.stem.split('_')[1].split('xb'))  # 8xb128
    optimizer = cfg.optim_wrapper.optimizer
    total = gpus * cfg.train_dataloader.batch_size
    assert (batch, optimizer.type, optimizer.weight_decay) == (
        128, 'AdamW', 0.05)
    assert optimizer.lr == pytest.approx(2e-3 * total / 1024)
    assert cfg.auto_scale_lr.base_batch_size == total
    warmup, cosine = cfg.param_scheduler
    assert warmup.start_factor * 2e-3 == pytest.approx(1e-6)
    assert (warmup.end, cosine.begin, cosine.end, cosine.eta_min) == (
        20, 20, 300, 1e-5)
    assert cfg.model.backbone.drop_path_rate == 0.1
    assert cfg.model.head.type == 'mmvig.DistilledViGClsHead'
    assert cfg.data_preprocessor.mean == [123.675, 116.28, 103.53]
    transforms = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert transforms['RandomErasing'].fill_color == [103.53, 116.28,
                                                      123.675]
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        transforms = {t.type: t for t in loader.dataset.pipeline}
        assert transforms['ResizeEdge'].scale == 248
        assert transforms['CenterCrop'].crop_size == 224


@pytest.mark.parametrize('folder', FAMILIES)
def test_family_model_zoo_lists_every_config(folder):
    import yaml
    metafile = yaml.safe_load(
        (ROOT / 'configs' / folder / 'metafile.yml').read_text())
    listed = {m['Config'] for m in metafile['Models']}
    assert listed == {f'configs/{folder}/{p.name}' for p in FAMILY_IMAGENET
                      if p.parent.name == folder}
    readme = (ROOT / 'configs' / folder / 'README.md').read_text()
    assert all(osp.basename(c) in readme for c in listed)
