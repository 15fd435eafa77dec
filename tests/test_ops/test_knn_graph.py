import importlib
import warnings

import pytest
import torch
import torch.nn.functional as F

from mmvig.ops import (FixedSizeKNNGraph, KNNGraph, knn_graph,
                       relative_pos_factors, sincos_pos_embed_2d)
from mmvig.ties import count_tie_flips, rounding_tol
from ..helpers import assert_close_rounding

# the module (its name is shadowed by the function in mmvig.ops)
knn_module = importlib.import_module('mmvig.ops.knn_graph')


def dense_reference(x, y, k, dilation, bias=None):
    """The plain formulation in float64: full distance matrix, sort, every
    d-th. Returns the indices and the distances ``(B, N, M)``."""
    x = F.normalize(x.double(), dim=1)
    y = F.normalize(y.double(), dim=1)
    dist = ((x.unsqueeze(-1) - y.unsqueeze(-2))**2).sum(1)  # (B, N, M)
    if bias is not None:
        dist = dist + bias.double()
    order = dist.argsort(dim=-1)[..., :k * dilation]
    return order[..., ::dilation], dist


def distance_tol(channels, pos_factors=None):
    """Rounding of a float32 distance between unit vectors: a ``C``-term
    dot product plus the two squared norms (terms of absolute sum at most
    4), and the bias, a ``P``-term product of its factors."""
    if pos_factors is None:
        return rounding_tol(channels + 2, 4)
    query, key = pos_factors
    return rounding_tol(channels + 2 + query.shape[-1],
                        4 + (query.abs() @ key.abs().t()).max())


def checkpoint_bias(height, width, channels, num_keys):
    """The bias exactly as the released checkpoints built it: -(2 PE PE^T /
    C), bicubic-resized over the flattened key index."""
    pe = sincos_pos_embed_2d(height, width, channels).double()
    rel = 2 * pe @ pe.t() / channels
    rel = F.interpolate(rel[None, None].float(), size=(rel.shape[0], num_keys),
                        mode='bicubic', align_corners=False)[0, 0]
    return -rel


def test_sincos_matches_mae_formula():
    pe = sincos_pos_embed_2d(3, 5, 8)
    assert pe.shape == (15, 8)
    omega = 1. / 10000**(torch.arange(2) / 2.)
    node = 1 * 5 + 3  # row 1, column 3
    expected = torch.cat([torch.sin(3 * omega), torch.cos(3 * omega),
                          torch.sin(1 * omega), torch.cos(1 * omega)])
    assert_close_rounding(pe[node], expected, 2, magnitude=1)


@pytest.mark.parametrize('grid,ratio', [((56, 56), 4), ((28, 28), 2),
                                        ((14, 14), 1), ((9, 13), 2)])
def test_relative_pos_factors_reproduce_checkpoint_bias(grid, ratio):
    height, width = grid
    keys = -(-height // ratio) * -(-width // ratio)
    query, key = relative_pos_factors(height, width, 48, keys)
    expected = checkpoint_bias(height, width, 48, keys)
    # 48-term products, resized by 4-tap bicubic filters on either side.
    assert_close_rounding(query @ key.t(), expected, 48 + 8,
                          magnitude=query.abs() @ key.abs().t())


@pytest.mark.parametrize('k,dilation', [(9, 1), (9, 2), (4, 5)])
def test_same_neighbours_as_dense_reference(k, dilation):
    x, y = torch.randn(2, 16, 50), torch.randn(2, 16, 30)
    expected, dist = dense_reference(x, y, k, dilation)
    count_tie_flips(knn_graph(x, y, k, dilation), expected, dist,
                           distance_tol(16))


def test_self_is_nearest_without_keys():
    x = torch.randn(2, 8, 40)
    index = knn_graph(x, None, k=5)
    assert torch.equal(index[..., 0], torch.arange(40).expand(2, 40))


def test_bias_changes_neighbours_like_dense_reference():
    height, width, channels = 8, 6, 16
    x = torch.randn(2, channels, height * width)
    y = F.avg_pool2d(x.view(2, channels, height, width), 2).flatten(2)
    factors = relative_pos_factors(height, width, channels, y.shape[-1])
    bias = checkpoint_bias(height, width, channels, y.shape[-1])
    expected, dist = dense_reference(x, y, 3, 2, bias=bias * 4)
    got = knn_graph(x, y, 3, 2, pos_factors=(factors[0] * 4, factors[1]))
    count_tie_flips(got, expected, dist,
                           distance_tol(channels, (factors[0] * 4, factors[1])))
    assert not torch.equal(got, knn_graph(x, y, 3, 2))


def test_chunked_equals_unchunked():
    x, y = torch.randn(3, 16, 500), torch.randn(3, 16, 120)
    factors = (torch.randn(500, 4), torch.randn(120, 4))
    _, dist = dense_reference(x, y, 9, 3, bias=factors[0] @ factors[1].t())
    tol = distance_tol(16, factors)
    dense = knn_graph(x, y, 9, 3, pos_factors=factors, max_chunk_bytes=None)
    for budget in (1, 3 * 120 * 4 * 7, 10**6):
        chunked = knn_graph(x, y, 9, 3, pos_factors=factors,
                            max_chunk_bytes=budget)
        count_tie_flips(chunked, dense, dist, tol)


def test_distance_blocks_stay_within_budget(monkeypatch):
    blocks = []
    real = torch.baddbmm

    def recording(*args, **kwargs):
        out = real(*args, **kwargs)
        blocks.append(out.numel() * out.element_size())
        return out

    monkeypatch.setattr(knn_module.torch, 'baddbmm', recording)
    budget = 2**16
    knn_graph(torch.randn(2, 8, 4000), torch.randn(2, 8, 300), 9,
              max_chunk_bytes=budget)
    assert len(blocks) > 1
    assert max(blocks) <= budget
    assert sum(b // (2 * 300 * 4) for b in blocks) == 4000  # every query


def test_no_gradient_flows_through_graph():
    x = torch.randn(1, 8, 20, requires_grad=True)
    index = knn_graph(x, None, 4)
    assert not index.requires_grad and index.dtype == torch.int64
    assert x.grad is None


def test_too_few_keys_clamps_silently():
    # The backbones warn, once per model and input size (test_backbones).
    x, y = torch.randn(1, 8, 10), torch.randn(1, 8, 12)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        clamped = knn_graph(x, y, 9, 3)
    expected, dist = dense_reference(x, y, 9, 1)
    count_tie_flips(clamped, expected, dist, distance_tol(8))
    tiny = knn_graph(x, y[..., :4], 9, 2)
    assert tiny.shape == (1, 10, 4)
    assert torch.equal(tiny.sort(-1).values, torch.arange(4).expand(1, 10, 4))


def test_stochastic_only_in_training():
    x, y = torch.randn(1, 8, 30), torch.randn(1, 8, 40)
    nearest, _ = dense_reference(x, y, 12, 1)
    dilated = knn_graph(x, y, 4, 3, stochastic=True, epsilon=1.0,
                        training=False)
    assert torch.equal(dilated, nearest[..., ::3])
    sampled = knn_graph(x, y, 4, 3, stochastic=True, epsilon=1.0,
                        training=True)
    assert sampled.shape == (1, 30, 4)
    for node in range(30):
        assert set(sampled[0, node].tolist()) <= set(nearest[0, node].tolist())
    draws = {tuple(knn_graph(x, y, 4, 3, stochastic=True, epsilon=1.0,
                             training=True)[0, 0].tolist()) for _ in range(8)}
    assert len(draws) > 1


@pytest.mark.parametrize('kwargs,message', [
    (dict(k=0), r'knn_graph: k must be an integer >= 1, got 0'),
    (dict(k=2.5), r'knn_graph: k must be an integer >= 1, got 2.5'),
    (dict(dilation=0), r'dilation must be an integer >= 1, got 0'),
    (dict(epsilon=1.5), r'epsilon must be in \[0, 1\], got 1.5'),
    (dict(max_chunk_bytes=0), r'max_chunk_bytes must be an integer >= 1'),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        knn_graph(torch.randn(1, 8, 10), **kwargs)


def test_mismatched_or_empty_keys_are_refused():
    with pytest.raises(ValueError, match=r'same B and C, got \(1, 8, 10\) '
                       r'and \(1, 4, 6\)'):
        knn_graph(torch.randn(1, 8, 10), torch.randn(1, 4, 6))
    with pytest.raises(ValueError, match='at least one key node'):
        knn_graph(torch.randn(1, 8, 10), torch.randn(1, 8, 0))


def test_empty_batch_gives_empty_indices():
    for y in (None, torch.randn(0, 8, 6)):
        index = knn_graph(torch.randn(0, 8, 10), y, k=4, dilation=2)
        assert index.shape == (0, 10, 4) and index.dtype == torch.int64


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_features_are_ranked_in_float32(dtype):
    x, y = torch.randn(2, 32, 300).to(dtype), torch.randn(2, 32, 80).to(dtype)
    factors = relative_pos_factors(15, 20, 32, 80)
    expected = knn_graph(x.float(), y.float(), 9, 2, pos_factors=factors)
    assert torch.equal(knn_graph(x, y, 9, 2, pos_factors=factors), expected)
    # Under autocast the distance GEMM would otherwise run in low precision.
    with torch.autocast('cpu', dtype=torch.bfloat16):
        autocast = knn_graph(x, y, 9, 2, pos_factors=factors)
    assert torch.equal(autocast, expected)


@pytest.mark.parametrize('num_keys', [1, 4, 9, 13, 18, 26, 27, 40])
@pytest.mark.parametrize('with_bias', [False, True])
def test_fixed_k_graph_equals_eager(num_keys, with_bias):
    """What an exported or compiled graph computes (top-k of the constant
    k * dilation over padded keys): eager's neighbours for any number of
    keys, and with fewer than k keys eager's columns followed by repeats of
    the farthest key."""
    x, y = torch.randn(2, 16, 30).double(), torch.randn(2, 16, num_keys)
    factors = (torch.randn(30, 4).double(), torch.randn(num_keys, 4).double()
               ) if with_bias else None
    eager = KNNGraph(9, 3)(x, y.double(), factors)
    fixed = FixedSizeKNNGraph(9, 3)(x, y.double(), factors)
    assert fixed.shape == (2, 30, 9)
    kept = eager.shape[-1]
    assert torch.equal(fixed[..., :kept], eager)
    assert torch.equal(fixed[..., kept:],
                       eager[..., -1:].expand(-1, -1, 9 - kept))


def test_fixed_k_graph_samples_like_eager_in_training():
    x, y = torch.randn(1, 8, 30), torch.randn(1, 8, 40)
    nearest, _ = dense_reference(x, y, 12, 1)
    builder = FixedSizeKNNGraph(4, 3, stochastic=True, epsilon=1.0).eval()
    assert torch.equal(builder(x, y), nearest[..., ::3])
    sampled = builder.train()(x, y)
    assert sampled.shape == (1, 30, 4)
    for node in range(30):
        assert set(sampled[0, node].tolist()) <= set(nearest[0, node].tolist())
    assert not torch.equal(sampled, nearest[..., ::3])
