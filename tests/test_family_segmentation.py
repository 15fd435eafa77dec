"""The mobile family's Semantic FPN configs on ADE20K (MobileViG,
GreedyViG, MobileViGv2, AdaptViG): the authors' recipe, and each builds in
mmseg's scope and segments an image."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from .helpers import ROOT

CONFIGS = sorted((ROOT / 'configs' / 'sem_fpn').glob('fpn_*vig*-*_8xb4-*.py'))


def test_every_variant_has_a_config():
    assert {p.name.split('_')[1] for p in CONFIGS} == {
        'mobilevig-ti', 'mobilevig-s', 'mobilevig-m', 'mobilevig-b',
        'greedyvig-s', 'greedyvig-m', 'greedyvig-b', 'mobilevigv2-ti',
        'mobilevigv2-s', 'mobilevigv2-m', 'mobilevigv2-b', 'adaptvig-s',
        'adaptvig-m', 'adaptvig-b'}


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_follows_the_authors_and_segments(path):
    from mmseg.structures import SegDataSample
    cfg = Config.fromfile(path)
    family, arch = path.name.split('_')[1].split('-')
    backbone = cfg.model.backbone
    assert (backbone.type.lower(), backbone.arch) == (f'mmvig.{family}', arch)
    assert backbone.init_cfg.ema and backbone.norm_cfg.type == 'SyncBN'
    assert cfg.model.data_preprocessor.std == [58.395, 57.12, 57.375]
    assert cfg.train_dataloader.batch_size * 8 == 32
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.lr, optimizer.weight_decay) == (2e-4, 1e-4)
    assert cfg.train_cfg.max_iters == 40000

    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model).eval()
        assert model.neck.in_channels == model.backbone.out_channels
        image = torch.randint(0, 256, (3, 64, 96), dtype=torch.uint8)
        sample = SegDataSample(metainfo=dict(
            img_shape=(64, 96), ori_shape=(64, 96), pad_shape=(64, 96)))
        with torch.no_grad():
            result, = model.test_step(dict(inputs=[image],
                                           data_samples=[sample]))
    assert result.pred_sem_seg.shape == (64, 96)
    assert result.pred_sem_seg.data.max() < 150
