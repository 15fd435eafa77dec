"""MobileViG, GreedyViG, MobileViGv2 and AdaptViG: parameter counts,
equality with the reference on the authors' weights, any input size, the
backbone API."""
import pytest
import torch
import torch.nn as nn

from mmvig.checkpoint import to_mmvig_layout
from mmvig.models.layers import ConditionalPosEncoding
from mmvig.models import (AdaptViG, DistilledViGClsHead, GreedyViG,
                          MobileViG, MobileViGv2)
from .family_reference import (FACTS, VARIANTS, Reference,
                               random_authors_state_dict)

CLASSES = {'MobileViG': MobileViG, 'GreedyViG': GreedyViG,
           'MobileViGv2': MobileViGv2, 'AdaptViG': AdaptViG}
FAMILIES = list(CLASSES.values())
# The heads' hidden width; the others: 768.
EMBED = dict.fromkeys(['mobilevig_ti', 'mobilevig_s', 'mobilevigv2_ti',
                       'mobilevigv2_s', 'mobilevigv2_m'], 512)
# One small variant of each family.
SMALLEST = [('MobileViG', 'ti'), ('GreedyViG', 's'), ('MobileViGv2', 'ti'),
            ('AdaptViG', 's')]


def trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def build(cls_name, arch, distillation=True, **kwargs):
    backbone = CLASSES[cls_name](arch, out_indices=(0, 1, 2, 3), **kwargs)
    head = DistilledViGClsHead(
        num_classes=1000, in_channels=backbone.out_channels[-1],
        hidden_channels=EMBED.get(VARIANTS[(cls_name, arch)], 768),
        distillation=distillation)
    return backbone, head


@pytest.mark.parametrize('variant', VARIANTS, ids='-'.join)
def test_parameter_counts_equal_the_authors(variant):
    name = VARIANTS[variant]
    for distillation, expected in (
            (True, FACTS[name]['params_total']),
            (False, FACTS[name]['params_without_dist_head'])):
        backbone, head = build(*variant, distillation=distillation)
        assert trainable(backbone) + trainable(head) == expected


# MACs at 224 with both heads (the facts' table: mmengine's counter on the
# authors' models, graph ops' elementwise work aside).
MACS_G = {('MobileViG', 'ti'): 0.674, ('MobileViG', 's'): 1.002,
          ('MobileViG', 'm'): 1.513, ('MobileViG', 'b'): 2.827,
          ('GreedyViG', 's'): 1.604, ('GreedyViG', 'm'): 3.154,
          ('GreedyViG', 'b'): 5.119, ('MobileViGv2', 'ti'): 0.642,
          ('MobileViGv2', 's'): 0.930, ('MobileViGv2', 'm'): 1.641,
          ('MobileViGv2', 'b'): 3.594}


# AdaptViG: the facts have no count (mmengine's counter failed on the
# authors' graph ops).
@pytest.mark.parametrize('variant', MACS_G, ids='-'.join)
def test_macs_equal_the_authors(variant):
    from mmvig.analysis import count_flops
    macs = count_flops(nn.Sequential(*build(*variant)), (1, 3, 224, 224))
    assert round(macs['total'] / 1e9, 3) == MACS_G[variant]


def _load_authors(variant, seed=0, dtype=torch.float32):
    authors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in
               random_authors_state_dict(VARIANTS[variant], seed).items()}
    converted, layout, dropped = to_mmvig_layout(authors)
    assert layout == variant[0].lower() and not dropped
    backbone, head = build(*variant)
    for module, prefix in ((backbone, 'backbone.'), (head, 'head.')):
        module.to(dtype).load_state_dict(
            {k[len(prefix):]: v for k, v in converted.items()
             if k.startswith(prefix)}, strict=True)
    assert len(converted) == len(backbone.state_dict()) + len(
        head.state_dict())
    return authors, backbone.eval(), head.eval()


def _assert_close(got, expected):
    scale = expected.abs().max()
    err = (got - expected).abs().max()
    assert err <= 1e-4 * scale, f'max |diff| {err} vs scale {scale}'


def _compare(variant, shape, seed):
    """Outputs of mmvig and the reference on the same authors' weights.

    DAGA keeps a neighbour by comparing a distance (a sum over C channels)
    with a threshold; a distance within rounding of its threshold could
    flip between two correct implementations. GreedyViG is therefore
    compared in float64 and the smallest relative gap seen must exceed the
    rounding of such a sum (1000 eps sqrt(C)): then the graphs are equal by
    construction, not by luck. MobileViG's graph is fixed: float32.
    """
    dtype = torch.float64 if variant[0] == 'GreedyViG' else torch.float32
    authors, backbone, head = _load_authors(variant, seed, dtype)
    reference = Reference(VARIANTS[variant], authors)
    images = torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                         dtype=dtype)
    with torch.no_grad():
        expected_outs, expected_logits = reference(images)
        outs = backbone(images)
        logits = head(outs)
    rounding = 1e3 * torch.finfo(dtype).eps * max(backbone.channels)**0.5
    assert reference.margin > rounding
    assert len(outs) == len(expected_outs) == 4
    for got, expected in zip(outs, expected_outs):
        assert got.shape == expected.shape
        _assert_close(got, expected)
    _assert_close(logits, expected_logits)


@pytest.mark.parametrize('variant', VARIANTS, ids='-'.join)
def test_equals_the_reference_on_the_authors_weights(variant):
    _compare(variant, (2, 3, 64, 48), seed=0)


@pytest.mark.parametrize('variant', SMALLEST, ids='-'.join)
def test_equals_the_reference_at_an_odd_size(variant):
    _compare(variant, (1, 3, 75, 141), seed=3)


@pytest.mark.parametrize('variant', [('MobileViGv2', 's'), ('AdaptViG', 's')],
                         ids='-'.join)
def test_equals_the_reference_where_the_stride_exceeds_the_grid(variant):
    # 37 rows: 5 at stride 8, where MGC's K = 8 (and 3 at stride 16 with
    # K = 4) exceed the grid; AdaptViG's 2, 4, 8 ... stop below 5 rows.
    _compare(variant, (1, 3, 37, 61), seed=5)


@pytest.mark.parametrize('cls', FAMILIES)
@pytest.mark.parametrize('size', [(333, 517), (32, 32), (97, 61)])
def test_outputs_at_any_size(cls, size):
    model = cls(out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    assert [info['stride'] for info in model.feature_info] == [4, 8, 16, 32]
    for out, info in zip(outs, model.feature_info):
        expected = [-(-s // info['stride']) for s in size]
        assert list(out.shape) == [1, info['channels'], *expected]
        assert torch.isfinite(out).all()


@pytest.mark.parametrize('cls', FAMILIES)
def test_batch_of_no_images(cls):
    model = cls(out_indices=(1, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(0, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [
        (0, model.channels[1], 8, 12), (0, model.channels[3], 2, 3)]


def test_bad_arguments_are_refused_with_the_valid_range():
    with pytest.raises(ValueError, match=r"unknown MobileViG arch 'huge'.*"
                       r"'b', 'base', 'm', 'medium', 's', 'small', 'ti'"):
        MobileViG('huge')
    with pytest.raises(ValueError, match=r"GreedyViG: graph_strides must "
                       r"have 4 entries \(one per stage\), got \[8, 4\]"):
        GreedyViG('s', graph_strides=[8, 4])
    with pytest.raises(ValueError, match=r'graph_strides must be an integer '
                       r'>= 1, got 0'):
        MobileViG('ti', graph_strides=0)
    with pytest.raises(ValueError, match=r'graph_strides\[1\] must be an '
                       r'integer >= 1, got -2'):
        GreedyViG('s', graph_strides=[8, -2, 2, 1])
    with pytest.raises(ValueError, match=r'drop_path_rate must be in \[0, 1\)'
                       r', got 1.5'):
        GreedyViG('s', drop_path_rate=1.5)
    with pytest.raises(ValueError, match=r'graph_depths \[0, 0, 0, 3\] must '
                       r'be in \[0, depth\]'):
        MobileViG(dict(depths=[1, 1, 1, 2], graph_depths=[0, 0, 0, 3],
                       channels=[8, 8, 8, 8]))
    with pytest.raises(ValueError, match=r'out_indices 4 is out of range'):
        GreedyViG('s', out_indices=4)
    with pytest.raises(ValueError,
                       match=r'frozen_stages must be in \[-1, 4\]'):
        MobileViG('ti', frozen_stages=6)
    with pytest.raises(ValueError, match=r'at least 32x32 pixels.*got 31x64'):
        GreedyViG('s')(torch.randn(1, 3, 31, 64))


def test_new_archs_and_their_graphs_are_checked():
    with pytest.raises(ValueError, match=r"unknown AdaptViG arch 'ti'"):
        AdaptViG('ti')
    assert MobileViGv2('base').channels == MobileViGv2('b').channels == [
        64, 128, 256, 512]
    with pytest.raises(ValueError, match=r'MobileViGv2: graph_strides\[2\] '
                       r'must be an integer >= 1, got 0'):
        MobileViGv2('ti', graph_strides=[8, 8, 0, 2])
    with pytest.raises(ValueError, match=r'GlobalAttentionGraph: channels '
                       r'must be an integer >= 4, got 2'):
        AdaptViG(dict(depths=[1, 1, 1, 1], graph_depths=[0, 0, 0, 1],
                      channels=[8, 8, 8, 2]))
    # The learned parts of AdaptViG's graphs sit in its graph builders and
    # train with the block (layer-wise lr decay included).
    model = AdaptViG('s')
    names = dict(model.named_parameters())
    assert names['stages.0.blocks.3.grapher.graph.temperature'].shape == ()
    assert 'stages.3.blocks.5.grapher.graph.q_conv.weight' in names
    assert model.get_layer_depth(
        'backbone.stages.0.blocks.3.grapher.graph.temperature',
        'backbone.')[0] == 4


def test_frozen_stages_norm_eval_and_layer_depth():
    model = GreedyViG('s', frozen_stages=2, norm_eval=True).train()
    for module in (model.stem, model.stages[0], model.stages[1]):
        assert not any(p.requires_grad for p in module.parameters())
    assert all(p.requires_grad for p in model.stages[2].parameters())
    assert not any(m.training for m in model.modules()
                   if isinstance(m, nn.BatchNorm2d))
    num_layers = sum(model.depths) + 2
    assert model.get_layer_depth('backbone.stem.0.conv.weight',
                                 'backbone.') == (0, num_layers)
    assert model.get_layer_depth('backbone.stages.1.downsample.conv.weight',
                                 'backbone.')[0] == 5
    assert model.get_layer_depth(
        'backbone.stages.3.blocks.3.layer_scale2',
        'backbone.')[0] == num_layers - 2
    assert model.get_layer_depth('head.fc2_dist.weight', 'backbone.') == (
        num_layers - 1, num_layers)


# MobileViGv2's blocks are GreedyViG's over a fixed graph; AdaptViG's graphs
# have parameters of their own.
@pytest.mark.parametrize('cls', [MobileViG, GreedyViG, AdaptViG])
def test_with_cp_gives_equal_gradients(cls):
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = cls(with_cp=with_cp).train()
        model(x)[-1].square().mean().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name])


@pytest.mark.parametrize('variant', SMALLEST, ids='-'.join)
def test_fuse_keeps_outputs(variant):
    _, backbone, _ = _load_authors(variant)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        expected = backbone(x)
        fused = backbone.fuse()(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in backbone.modules())
    # The conditional position encodings x + dwconv(x) are one conv now
    # (MobileViGv2's RepCPE re-parameterisation; GreedyViG's and AdaptViG's
    # encodings are the same layer).
    encodings = [m for m in backbone.modules()
                 if isinstance(m, ConditionalPosEncoding)]
    assert bool(encodings) == (variant[0] != 'MobileViG')
    assert all(m.reparameterized for m in encodings)
    for got, want in zip(fused, expected):
        _assert_close(got, want)


def test_head_averages_at_inference_and_trains_both():
    from mmpretrain.structures import DataSample
    head = DistilledViGClsHead(num_classes=5, in_channels=8,
                               hidden_channels=16).eval()
    feats = (torch.randn(3, 8, 2, 2), )
    hidden = head.pre_logits(feats)
    torch.testing.assert_close(
        head(feats), (head.fc2(hidden) + head.fc2_dist(hidden)) / 2)
    samples = [DataSample().set_gt_label(i) for i in (0, 1, 4)]
    loss = head.train().loss(feats, samples)['loss']
    loss.backward()
    assert head.fc2.weight.grad.abs().sum() > 0
    assert head.fc2_dist.weight.grad.abs().sum() > 0
    plain = DistilledViGClsHead(num_classes=5, in_channels=8,
                                distillation=False)
    assert plain.fc2_dist is None


@pytest.mark.parametrize('cls', FAMILIES)
def test_low_precision_and_autocast_run_finite(cls):
    model = cls(out_indices=(0, 3)).eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        expected = model(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            autocast = model(x)
        cast = model.to(torch.bfloat16)(x.bfloat16())
    for outs in (autocast, cast):
        for got, want in zip(outs, expected):
            assert got.shape == want.shape and torch.isfinite(got).all()
    assert cast[-1].dtype == torch.bfloat16
