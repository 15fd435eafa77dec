"""The MobileViGv2 and AdaptViG configs (ImageNet, Mask R-CNN, RetinaNet,
Semantic FPN): each builds in its scope, trains one step with its own
optimiser settings, and predicts at an odd size. Their recipes are checked
with the family's in test_configs.py, test_detection/test_detectors.py and
test_family_segmentation.py."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, DefaultScope

from .helpers import ROOT

FAMILIES = ('mobilevigv2', 'adaptvig')
ARCHS = {'mobilevigv2': ('ti', 's', 'm', 'b'), 'adaptvig': ('s', 'm', 'b')}
CONFIGS = sorted(
    p for p in (ROOT / 'configs').rglob('*.py')
    if '_base_' not in p.parts and any(
        p.name.startswith((f'{f}-', f'mask-rcnn_{f}-', f'retinanet_{f}-',
                           f'fpn_{f}-')) for f in FAMILIES))
ODD = (67, 93)  # predicted at this size; trained at TRAIN


def _id(path):
    return str(path.relative_to(ROOT / 'configs'))


def test_every_variant_has_every_config():
    found = {p.name for p in CONFIGS}
    for family, archs in ARCHS.items():
        for arch in archs:
            assert {f'{family}-{arch}_16xb128_in1k.py',
                    f'mask-rcnn_{family}-{arch}_fpn_1x_coco.py',
                    f'retinanet_{family}-{arch}_fpn_1x_coco.py',
                    f'fpn_{family}-{arch}_8xb4-40k_ade20k-512x512.py'
                    } <= found, (family, arch)
    assert len(CONFIGS) == 4 * 7


def _batch(scope, size, num):
    """``num`` random images and the annotated samples a loss needs."""
    height, width = size
    if scope == 'mmdet':
        from mmdet.testing import demo_mm_inputs
        return demo_mm_inputs(batch_size=num, image_shapes=(3, height, width),
                              num_classes=80, with_mask=True)
    images = [torch.randint(0, 256, (3, height, width), dtype=torch.uint8)
              for _ in range(num)]
    if scope == 'mmpretrain':
        from mmpretrain.structures import DataSample
        samples = [DataSample().set_gt_label(i) for i in range(num)]
    else:
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        samples = []
        for _ in range(num):
            sample = SegDataSample(metainfo=dict(
                img_shape=size, ori_shape=size, pad_shape=size))
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, 150, (1, height, width)))
            samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def _is_smallest(path):
    return any(f'{family}-{ARCHS[family][0]}_' in path.name
               for family in FAMILIES)


SMALLEST = [p for p in CONFIGS if _is_smallest(p)]


@pytest.mark.parametrize('path', SMALLEST, ids=_id)
def test_config_trains_a_step_and_predicts_at_an_odd_size(path):
    _train_step_and_odd_predict(path)


@pytest.mark.slow
def test_larger_archs_configs_train_a_step_and_predict_at_an_odd_size():
    """The same for the larger archs' configs (they differ from the
    smallest in arch and channels; test_configs.py builds each and runs a
    forward in the fast suite). About 20 s each on 2 busy cores."""
    for path in CONFIGS:
        if not _is_smallest(path):
            _train_step_and_odd_predict(path)


def _train_step_and_odd_predict(path):
    cfg = Config.fromfile(path)
    assert 'mmvig' in cfg.custom_imports['imports']
    scope = cfg.default_scope
    cfg.model.backbone.init_cfg = None  # nothing to download
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    if scope == 'mmseg':  # pad to a multiple of 32, not to 512x512
        cfg.model.data_preprocessor.update(size=None, size_divisor=32)
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
        model.init_weights()
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        # Two images: the classifier's BatchNorm on pooled features needs
        # more than one value per channel.
        model.train()
        before = [p.detach().clone() for p in model.backbone.parameters()]
        losses = model.train_step(_batch(scope, (64, 96), 2), optim_wrapper)
        assert losses and all(torch.isfinite(v) for v in losses.values())
        # The step updated the backbone (the stem's first conv at least).
        after = list(model.backbone.parameters())
        assert not torch.equal(before[0], after[0])

        model.eval()
        with torch.no_grad():
            result, = model.test_step(_batch(scope, ODD, 1))
    if scope == 'mmpretrain':
        assert result.pred_score.shape == (1000, )
    elif scope == 'mmdet':
        assert result.pred_instances.bboxes.shape[1] == 4
        if 'roi_head' in cfg.model:  # masks at the original, odd size
            assert result.pred_instances.masks.shape[1:] == ODD
    else:
        assert result.pred_sem_seg.shape == ODD
