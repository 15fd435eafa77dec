"""Property tests over input sizes and settings (hypothesis, derandomized so
that every run tries the same examples).

For both backbones, over heights and widths in 32..1024 (primes and extreme
aspect ratios included), batches of 0 to 4, ``k``, dilation, key reduction,
KNN chunk size and all four graph convolutions: outputs have the documented
shapes and strides and are finite, and each image's output is independent
of its batch neighbours (a NaN pixel in one image leaves the others finite
and unchanged). The KNN indices do not depend on the chunk size.
"""
import math

import pytest
import torch
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from mmvig.models import PyramidViG, ViG
from mmvig.models.layers import GRAPH_CONV_TYPES
from mmvig.ops import knn_graph
from mmvig.ties import count_tie_flips, rounding_tol

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
#: Largest query x key count of one KNN layer (batch included) a property
#: example may cost: about a second of distance GEMM and top-k on 2 cores.
MAX_GRAPH_PAIRS = 10**8

sizes = st.integers(32, 1024)
settings_of_graphs = dict(
    batch=st.integers(0, 4),
    k=st.integers(1, 12),
    use_dilation=st.booleans(),
    conv=st.sampled_from(GRAPH_CONV_TYPES),
    chunk_bytes=st.sampled_from([1, 4096, 2**20, None]),
)


def _largest_graph(model, height, width, batch):
    return max(
        batch * math.ceil(height / stride) * math.ceil(width / stride) *
        model._graph_keys(height, width, grapher, stride)
        for grapher, stride in model._graph_layers())


def _check_outputs(model, height, width, batch):
    """Shapes, strides and finiteness; per-image independence."""
    assume(_largest_graph(model, height, width, batch) <= MAX_GRAPH_PAIRS)
    x = torch.randn(batch, 3, height, width)
    with torch.no_grad():
        outs = model(x)
    assert len(outs) == len(model.feature_info)
    for out, info in zip(outs, model.feature_info):
        stride = info['stride']
        assert out.shape == (batch, info['channels'], math.ceil(height / stride),
                             math.ceil(width / stride))
        assert torch.isfinite(out).all()
    if batch < 2:
        return
    x[0, :, height // 2, width // 3] = float('nan')
    with torch.no_grad():
        poisoned = model(x)
    for out, clean in zip(poisoned, outs):
        assert not torch.isfinite(out[0]).all()
        # The other images ran through the very same kernels.
        torch.testing.assert_close(out[1:], clean[1:], rtol=0, atol=0)


@SETTINGS
@given(height=sizes, width=sizes, reduce=st.sampled_from(
    [(4, 2, 1, 1), (1, 1, 1, 1), (2, 3, 2, 1), (8, 4, 2, 1)]),
    **settings_of_graphs)
@example(height=1021, width=32, batch=2, k=9, use_dilation=True, conv='mr',
         chunk_bytes=4096, reduce=(4, 2, 1, 1))
@example(height=37, width=1024, batch=1, k=12, use_dilation=True,
         conv='edge', chunk_bytes=None, reduce=(4, 2, 1, 1))
@example(height=509, width=499, batch=1, k=9, use_dilation=True, conv='mr',
         chunk_bytes=2**20, reduce=(4, 2, 1, 1))
@example(height=32, width=32, batch=4, k=9, use_dilation=True, conv='sage',
         chunk_bytes=1, reduce=(4, 2, 1, 1))
def test_pyramid_properties(height, width, batch, k, use_dilation, conv,
                            chunk_bytes, reduce):
    model = PyramidViG(
        dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32]), k=k,
        reduce_ratios=reduce, graph_conv_type=conv, use_dilation=use_dilation,
        graph_cfg=dict(type='mmvig.KNNGraph', max_chunk_bytes=chunk_bytes),
        out_indices=(0, 1, 2, 3)).eval()
    assert [i['stride'] for i in model.feature_info] == [4, 8, 16, 32]
    _check_outputs(model, height, width, batch)


@SETTINGS
@given(height=sizes, width=sizes, relative_pos=st.booleans(),
       **settings_of_graphs)
@example(height=1024, width=32, batch=2, k=9, use_dilation=True, conv='mr',
         chunk_bytes=4096, relative_pos=False)
@example(height=31 * 17, width=523, batch=1, k=12, use_dilation=True,
         conv='gin', chunk_bytes=None, relative_pos=True)
def test_isotropic_properties(height, width, batch, k, use_dilation, conv,
                              chunk_bytes, relative_pos):
    model = ViG(dict(depth=5, channels=16), k=k, graph_conv_type=conv,
                use_dilation=use_dilation, relative_pos=relative_pos,
                graph_cfg=dict(type='mmvig.KNNGraph',
                               max_chunk_bytes=chunk_bytes),
                out_indices=(0, -1)).eval()
    assert [i['stride'] for i in model.feature_info] == [16, 16]
    _check_outputs(model, height, width, batch)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(batch=st.integers(0, 3), channels=st.integers(1, 40),
       queries=st.integers(1, 600), keys=st.integers(1, 300),
       k=st.integers(1, 16), dilation=st.integers(1, 4),
       chunk_bytes=st.integers(1, 2**18), with_bias=st.booleans())
def test_knn_indices_do_not_depend_on_the_chunk_size(
        batch, channels, queries, keys, k, dilation, chunk_bytes, with_bias):
    x = torch.randn(batch, channels, queries)
    y = torch.randn(batch, channels, keys)
    factors = (torch.randn(queries, 4), torch.randn(keys, 4)) \
        if with_bias else None
    dense = knn_graph(x, y, k, dilation, pos_factors=factors,
                      max_chunk_bytes=None)
    chunked = knn_graph(x, y, k, dilation, pos_factors=factors,
                        max_chunk_bytes=chunk_bytes)
    assert chunked.shape == dense.shape == (
        batch, queries, min(k, keys))
    assert ((0 <= chunked) & (chunked < keys)).all()
    # Equal up to ties: the float64 distances decide what a tie is.
    xd = torch.nn.functional.normalize(x.double(), dim=1)
    yd = torch.nn.functional.normalize(y.double(), dim=1)
    dist = torch.cdist(xd.transpose(1, 2), yd.transpose(1, 2))**2
    magnitude, terms = 4., channels + 2
    if with_bias:
        dist = dist + (factors[0] @ factors[1].t()).double()
        magnitude += (factors[0].abs() @ factors[1].abs().t()).max()
        terms += 4
    count_tie_flips(chunked, dense, dist,
                           rounding_tol(terms, magnitude))


@pytest.mark.parametrize('cls', [PyramidViG, ViG])
def test_train_mode_batch_of_one_image_per_size(cls):
    """Training (batch statistics) at a prime size runs and backpropagates."""
    arch = dict(depths=[1, 1, 1, 1], channels=[8, 16, 24, 32]) \
        if cls is PyramidViG else dict(depth=2, channels=16)
    model = cls(arch).train()
    out = model(torch.randn(2, 3, 67, 41))[-1]
    out.square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters()
               if p.grad is not None)
