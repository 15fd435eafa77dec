"""Every input either works or says why: arguments checked when a model is
built, graphs larger than the input's keys, empty batches.

docs/robustness.md tables what each case gets; it is written from these
tests.
"""
import warnings

import pytest
import torch

from mmvig.models import (DistilledViGClsHead, GreedyViG, MobileViG,
                          PyramidViG, ViG, ViGClsHead)
from mmvig.models.layers import Grapher
from mmvig.models.necks import SimpleFeaturePyramid
from mmvig.models.layers import GraphConv

TINY_PYRAMID = dict(depths=[1, 1, 1, 1], channels=[8, 16, 24, 32])
#: Pyramid ViG-Ti's blocks (and so its graphs), narrow to run fast.
NARROW_TINY = dict(depths=[2, 2, 6, 2], channels=[8, 16, 24, 32])


def knn(**options):
    return dict(type='mmvig.KNNGraph', **options)


@pytest.mark.parametrize('build,message', [
    # PyramidViG
    (lambda: PyramidViG(k=0), r'PyramidViG: k must be an integer >= 1, got 0'),
    (lambda: PyramidViG(k=-3), r'k must be an integer >= 1, got -3'),
    (lambda: PyramidViG(k=9.0), r'k must be an integer >= 1, got 9.0'),
    (lambda: PyramidViG(in_channels=0), r'in_channels must be an integer'),
    (lambda: PyramidViG(graph_cfg=dict(type='mmvig.KNNGraph', epsilon=-0.1)),
     r'KNNGraph: epsilon must be in \[0, 1\], got'),
    (lambda: PyramidViG(drop_path_rate=1.0),
     r'drop_path_rate must be in \[0, 1\), got 1.0'),
    (lambda: PyramidViG(train_size=16),
     r'train_size must be an integer >= 32, got 16'),
    (lambda: PyramidViG(graph_cfg=dict(type='mmvig.KNNGraph',
                                       max_chunk_bytes=0)),
     r'max_chunk_bytes must be an integer >= 1, got 0'),
    (lambda: PyramidViG(graph_cfg=dict(type='mmvig.NoSuchGraph')),
     r"graph_cfg type 'mmvig.NoSuchGraph' is not a registered graph builder; "
     r'mmvig has .*mmvig.DAGAGraph, mmvig.FixedSizeKNNGraph'),
    (lambda: PyramidViG(graph_cfg='knn'), r'graph_cfg must be a dict'),
    (lambda: PyramidViG(reduce_ratios=(4, 2, 1)),
     r'reduce_ratios must have 4 entries \(one per stage\), got \[4, 2, 1\]'),
    (lambda: PyramidViG(reduce_ratios=(4, 0, 1, 1)),
     r'reduce_ratios\[1\] must be an integer >= 1, got 0'),
    (lambda: PyramidViG(dict(depths=[2, 2], channels=[48, 96, 240])),
     r'arch channels must have 2 entries \(one per stage\), got \[48, 96, 240\]'),
    (lambda: PyramidViG(dict(depths=[2, 0], channels=[48, 96]),
                        reduce_ratios=(2, 1)),
     r'arch depths\[1\] must be an integer >= 1, got 0'),
    (lambda: PyramidViG(dict(depths=[], channels=[])),
     r'arch depths must have at least one entry'),
    (lambda: PyramidViG(dict(depths=[1, 1], channels=[1, 8]),
                        reduce_ratios=(1, 1)),
     r'arch channels\[0\] must be an integer >= 2, got 1'),
    (lambda: PyramidViG(dict(depths=[1, 1], channels=[8, 10]),
                        reduce_ratios=(1, 1)),
     r'PyramidViG: arch channels\[1\] must be divisible by 4 \(the sin-cos '
     r'relative-position embedding\), got 10'),
    (lambda: PyramidViG(dict(depths=[1, 1], channels=[8, 10]),
                        reduce_ratios=(1, 1), relative_pos=False,
                        graph_conv_type='gin'),
     r"GraphConv\('gin'\): in_channels must be divisible by 4 \(the 4 heads"),
    (lambda: PyramidViG('huge'), r"unknown PyramidViG arch 'huge'"),
    # ViG
    (lambda: ViG(k=0), r'ViG: k must be an integer >= 1, got 0'),
    (lambda: ViG(dict(depth=0, channels=192)),
     r'arch depth must be an integer >= 1, got 0'),
    (lambda: ViG(dict(depth=2, channels=4)),
     r'arch channels must be an integer >= 8, got 4'),
    (lambda: ViG(dict(depth=2, channels=9)),
     r"GraphConv\('mr'\): 2 \* in_channels must be divisible by 4 \(the 4 "
     r'heads of the grouped update convolution\), got 18'),
    (lambda: ViG(train_size=8), r'train_size must be an integer >= 16'),
    (lambda: ViG(drop_path_rate=-0.5), r'drop_path_rate must be in \[0, 1\)'),
    # Grapher and GraphConv
    (lambda: Grapher(16, knn(k=0)), r'KNNGraph: k must be an integer >= 1'),
    (lambda: Grapher(16, knn(dilation=0)), r'KNNGraph: dilation must be an'),
    (lambda: Grapher(16, reduce_ratio=0), r'reduce_ratio must be an integer'),
    (lambda: Grapher(16, knn(epsilon=2)), r'epsilon must be in \[0, 1\], got 2'),
    (lambda: Grapher(16, drop_path=1), r'drop_path must be in \[0, 1\)'),
    (lambda: Grapher(16, knn(max_chunk_bytes=-1)),
     r'max_chunk_bytes must be an'),
    (lambda: Grapher(0), r'Grapher: channels must be an integer >= 1, got 0'),
    (lambda: GraphConv(16, 30), r"GraphConv\('mr'\): out_channels must be "
     r'divisible by 4'),
    (lambda: GraphConv(16, 32, groups=0), r'groups must be an integer >= 1'),
    (lambda: GraphConv(6, 12, 'sage'), r"GraphConv\('sage'\): in_channels "
     r'must be divisible by 4'),
    (lambda: GraphConv(16, 32, 'gat'), r"unknown graph conv type 'gat'"),
])
def test_bad_arguments_are_refused_when_built(build, message):
    with pytest.raises((ValueError, TypeError, KeyError), match=message):
        build()


def _shrink_warnings(caught):
    return [w for w in caught if 'fewer graph keys' in str(w.message)]


def test_more_neighbours_than_keys_works_with_one_warning_per_size():
    # k=200 exceeds the 49 keys of the last stage at 224 (it crashed with a
    # dilation of 0): every block clamps to the keys it has.
    model = PyramidViG(NARROW_TINY, k=200, out_indices=(0, 3)).eval()
    assert all(g.graph.dilation == 1 for g, _ in model._graph_layers())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with torch.no_grad():
            outs = model(torch.randn(1, 3, 224, 224))
    # At its train_size the clamp is by design: no warning.
    assert not _shrink_warnings(caught)
    assert [o.shape for o in outs] == [(1, 8, 56, 56), (1, 32, 7, 7)]
    assert all(torch.isfinite(o).all() for o in outs)
    grapher = model.stages[3].blocks[0].grapher
    keys, index = grapher.neighbours(torch.randn(1, 32, 7, 7))
    assert index.shape == (1, 49, 49)  # every key is a neighbour


def test_small_input_warns_once_per_model_and_size():
    model = PyramidViG(NARROW_TINY).eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with torch.no_grad():
            for size in [(64, 64), (64, 64), (96, 80), (64, 64), (224, 224)]:
                model(torch.randn(1, 3, *size))
            PyramidViG(NARROW_TINY).eval()(torch.randn(1, 3, 64, 64))
    messages = [str(w.message) for w in _shrink_warnings(caught)]
    assert len(messages) == 3, messages  # 64x64, 96x80, the second model
    assert messages[0].startswith('PyramidViG: a 64x64 input has fewer graph '
                                  'keys than k * dilation in')
    # Stage 3 at 64x64 has 4x4 keys, fewer than k * dilation = 9 * 2.
    assert '8 of its blocks' in messages[0]
    assert '(block 4: k=9, dilation=2 -> k=9, dilation=1; ...)' in messages[0]
    assert 'Inputs of at least 192x192 keep every graph' in messages[0]


def test_graph_keys_predicted_from_the_input_size():
    """The warning's key counts are those the blocks actually see."""
    model = PyramidViG(TINY_PYRAMID, out_indices=(0, 1, 2, 3)).eval()
    for size in [(97, 61), (33, 200)]:
        seen = []
        for grapher, _ in model._graph_layers():
            grapher.register_forward_hook(
                lambda m, args, out, seen=seen: seen.append(
                    m.neighbours(m.fc1(args[0]))[0].shape[-1]))
        with torch.no_grad():
            model(torch.randn(1, 3, *size))
        assert seen == [model._graph_keys(*size, g, s)
                        for g, s in model._graph_layers()]
        for grapher, _ in model._graph_layers():
            grapher._forward_hooks.clear()


@pytest.mark.parametrize('train', [False, True])
def test_empty_batch_through_every_backbone_neck_and_head(train):
    pyramid = PyramidViG('tiny', out_indices=(0, 1, 2, 3)).train(train)
    vig = ViG('tiny').train(train)
    head = ViGClsHead(10, 384).train(train)
    neck = SimpleFeaturePyramid(192, 64).train(train)
    x = torch.randn(0, 3, 100, 73)
    outs = pyramid(x)
    assert [tuple(o.shape) for o in outs] == [
        (0, c, -(-100 // s), -(-73 // s))
        for c, s in zip([48, 96, 240, 384], [4, 8, 16, 32])]
    (feature, ) = vig(x)
    assert feature.shape == (0, 192, 7, 5)
    assert head(outs).shape == (0, 10)
    assert [tuple(o.shape) for o in neck((feature, ))] == [
        (0, 64, 28, 20), (0, 64, 14, 10), (0, 64, 7, 5), (0, 64, 4, 3),
        (0, 64, 2, 2)]
    for family in (MobileViG('ti'), GreedyViG('s')):
        (last, ) = family.train(train)(x)
        assert last.shape == (0, family.channels[-1], 4, 3)
        head = DistilledViGClsHead(10, family.channels[-1]).train(train)
        assert head((last, )).shape == (0, 10)
    if train:
        (outs[-1].sum() + feature.sum()).backward()
        assert pyramid.stem[0].conv.weight.grad is not None
