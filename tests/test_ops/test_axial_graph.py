"""Axial graphs (SVGA, DAGA: their builders and the max-relative aggregate)
against node-by-node loops, and their properties."""
import pytest
import torch

from mmvig.ops import DAGAGraph, SVGAGraph, axial_shifts, daga_threshold


def svga_aggregate(x, stride):
    return SVGAGraph(stride)(x).max_relative(x)


def daga_aggregate(x, stride):
    return DAGAGraph(stride)(x).max_relative(x)


def _candidates(h, w, height, width, stride):
    return [((h - s) % height, w) for s in range(stride, height, stride)] + [
        (h, (w - s) % width) for s in range(stride, width, stride)]


def _loop_svga(x, stride):
    out = torch.zeros_like(x)
    _, _, height, width = x.shape
    for h in range(height):
        for w in range(width):
            for nh, nw in _candidates(h, w, height, width, stride):
                out[:, :, h, w] = torch.maximum(
                    out[:, :, h, w], x[:, :, h, w] - x[:, :, nh, nw])
    return out


def _loop_daga(x, stride):
    batch, _, height, width = x.shape
    out = torch.zeros_like(x)
    for b in range(batch):
        far_h, far_w = (height + 1) // 2, (width + 1) // 2
        dists = [(x[b, :, h, w] - x[b, :, (h - far_h) % height,
                                    (w - far_w) % width]).abs().sum()
                 for h in range(height) for w in range(width)]
        dists = torch.stack(dists)
        threshold = dists.mean() - dists.std()
        for h in range(height):
            for w in range(width):
                for nh, nw in _candidates(h, w, height, width, stride):
                    diff = x[b, :, nh, nw] - x[b, :, h, w]
                    if diff.abs().sum() < threshold:
                        out[b, :, h, w] = torch.maximum(out[b, :, h, w], diff)
    return out


@pytest.mark.parametrize('size,stride', [((5, 7), 2), ((8, 8), 3),
                                         ((6, 9), 1), ((4, 3), 8)])
def test_svga_equals_node_loops(size, stride):
    x = torch.randn(2, 3, *size)
    torch.testing.assert_close(svga_aggregate(x, stride),
                               _loop_svga(x, stride), rtol=0, atol=0)


@pytest.mark.parametrize('size,stride', [((5, 7), 2), ((9, 6), 1),
                                         ((8, 8), 4)])
def test_daga_equals_node_loops(size, stride):
    # A low-dimensional feature makes many pairs close: the mask matters.
    x = torch.randn(2, 2, *size, dtype=torch.float64)
    expected = _loop_daga(x, stride)
    assert (expected > 0).any() and (expected == 0).any()
    torch.testing.assert_close(daga_aggregate(x, stride), expected, rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize('aggregate', [svga_aggregate, daga_aggregate])
def test_graph_commutes_with_rolling_the_grid(aggregate):
    x = torch.randn(1, 4, 6, 10, dtype=torch.float64)
    shift = (2, 3)
    torch.testing.assert_close(
        aggregate(torch.roll(x, shift, (2, 3)), 2),
        torch.roll(aggregate(x, 2), shift, (2, 3)))


@pytest.mark.parametrize('aggregate', [svga_aggregate, daga_aggregate])
def test_single_node_and_empty_batch(aggregate):
    x = torch.randn(3, 5, 1, 1)
    assert torch.equal(aggregate(x, 2), torch.zeros_like(x))
    assert aggregate(torch.randn(0, 5, 4, 6), 2).shape == (0, 5, 4, 6)
    assert (aggregate(torch.randn(2, 5, 7, 4), 1) >= 0).all()


def test_threshold_of_a_single_node_is_finite():
    assert torch.isfinite(daga_threshold(torch.randn(2, 3, 1, 1))).all()


def test_axial_shifts_and_bad_stride():
    assert axial_shifts(5, 3, 2) == [(2, 2), (2, 4), (3, 2)]
    with pytest.raises(ValueError, match='stride must be >= 1, got 0'):
        axial_shifts(4, 4, 0)
    with pytest.raises(ValueError, match='SVGAGraph: stride must be an '
                       'integer >= 1, got 0'):
        SVGAGraph(0)


def _autograd_formulation(x, stride, graph):
    """The aggregate as plain differentiable ops over stacked candidates."""
    shifts = axial_shifts(*x.shape[-2:], stride)
    if graph == 'svga':
        rel = [torch.zeros_like(x)] + [x - torch.roll(x, s, d)
                                       for d, s in shifts]
        return torch.stack(rel).amax(0)
    threshold = daga_threshold(x.detach())
    rel = [torch.zeros_like(x)]
    for d, s in shifts:
        neighbour = torch.roll(x, s, d)
        close = (x - neighbour).abs().sum(1, keepdim=True) < threshold
        rel.append(torch.where(close, neighbour - x, torch.zeros_like(x)))
    return torch.stack(rel).amax(0)


@pytest.mark.parametrize('graph', ['svga', 'daga'])
def test_gradient_goes_to_the_maximum(graph):
    aggregate = dict(svga=svga_aggregate, daga=daga_aggregate)[graph]
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    grad, = torch.autograd.grad((aggregate(x, 2) * weights).sum(), x)
    expected, = torch.autograd.grad(
        (_autograd_formulation(x, 2, graph) * weights).sum(), x)
    torch.testing.assert_close(grad, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('aggregate', [svga_aggregate, daga_aggregate])
def test_backward_keeps_one_byte_per_element(aggregate):
    # 20 row and 30 column candidates: autograd would keep each of them.
    x = torch.randn(1, 8, 41, 61, requires_grad=True)
    saved = []

    def pack(tensor):
        saved.append(tensor.numel() * tensor.element_size())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        aggregate(x, 2)
    assert sum(saved) <= x.numel()  # the uint8 index of the winners
