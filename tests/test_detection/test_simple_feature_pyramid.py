"""The simple feature pyramid that isotropic ViG feeds to mmdet heads."""
import pytest
import torch

import mmvig  # noqa: F401  (registers the mmvig scope)
from mmvig.models.necks import SimpleFeaturePyramid


def test_strides_and_channels_at_an_odd_size():
    neck = SimpleFeaturePyramid(in_channels=64, out_channels=32).eval()
    # A 333x517 image at stride 16 (ceil), as ViG's stem produces it.
    feature = torch.randn(2, 64, 21, 33)
    with torch.no_grad():
        outs = neck((feature, ))
    assert [tuple(o.shape) for o in outs] == [
        (2, 32, 84, 132), (2, 32, 42, 66), (2, 32, 21, 33), (2, 32, 11, 17),
        (2, 32, 6, 9)]
    # Upsampling halves the channels per octave (ViTDet): 64 -> 32 -> 16.
    assert neck.projections[0][0].conv.in_channels == 16
    assert neck.projections[1][0].conv.in_channels == 32
    assert neck.projections[2][0].conv.in_channels == 64


def test_builds_from_an_mmdet_scope_and_trains():
    from mmdet.registry import MODELS
    neck = MODELS.build(
        dict(type='mmvig.SimpleFeaturePyramid', in_channels=64,
             out_channels=32, scale_factors=(2, 1), num_outs=3,
             norm_cfg=dict(type='BN')))
    assert isinstance(neck, SimpleFeaturePyramid)
    outs = neck([torch.randn(2, 64, 8, 8, requires_grad=True)])
    assert [o.shape[-1] for o in outs] == [16, 8, 4]
    sum(o.sum() for o in outs).backward()
    assert all(p.grad is not None for p in neck.parameters())


@pytest.mark.parametrize('kwargs, message', [
    (dict(scale_factors=(3, 1)), 'powers of two'),
    (dict(scale_factors=(4, 2, 1, 0.5), num_outs=3), 'num_outs'),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimpleFeaturePyramid(64, 32, **kwargs)


def test_needs_exactly_one_input():
    neck = SimpleFeaturePyramid(64, 32)
    with pytest.raises(ValueError, match='one feature map'):
        neck([torch.randn(1, 64, 8, 8)] * 2)
