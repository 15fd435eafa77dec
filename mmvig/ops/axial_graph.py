"""Axial graphs of MobileViG and GreedyViG: neighbours along the node's row
and column, every ``stride``-th node, wrapping around the border.

- SVGA (Sparse Vision Graph Attention, MobileViG, CVPR-W 2023,
  `arXiv:2307.00395 <https://arxiv.org/abs/2307.00395>`_): a fixed graph;
  node ``(h, w)`` links the nodes ``(h - s, w)`` and ``(h, w - s)`` (modulo
  the grid) for ``s = stride, 2 stride, ...``.
- DAGA (Dynamic Axial Graph Attention, GreedyViG, CVPR 2024,
  `arXiv:2405.06849 <https://arxiv.org/abs/2405.06849>`_): the same
  candidates, each kept only if its L1 feature distance to the node is below
  ``mean - std`` of the image's distances, estimated on the pairs one half
  grid apart in both directions.

The builders :class:`~mmvig.ops.SVGAGraph` and :class:`~mmvig.ops.DAGAGraph`
return these graphs; their max-relative aggregate (:func:`axial_max`) takes
each node as its own neighbour too (so it is never below zero): a node
without neighbours gets zeros. Rolling a feature map replaces the gather of
a neighbour index: a candidate ``s`` rows up is the map rolled by ``s``
along the rows, for every node at once. Any grid size works, the shifts need not divide it.
"""
import torch
from torch.autograd.function import once_differentiable

from .knn_graph import capturing_graph


def grid_size(x):
    """``(H, W)`` of node maps ``(B, C, H, W)`` as Python ints: the axial
    candidates are fixed by the grid's size, constants of a graph exported
    or compiled at that size."""
    return int(x.shape[-2]), int(x.shape[-1])


def axial_shifts(height, width, stride):
    """``(dim, shift)`` of every axial candidate: rows ``stride, 2 stride,
    ... < height`` (dim 2), then columns (dim 3)."""
    if stride < 1:
        raise ValueError(f'the axial graph stride must be >= 1, got {stride}')
    return [(2, s) for s in range(stride, height, stride)] + [
        (3, s) for s in range(stride, width, stride)]


def _running_max(x, shifts, threshold=None, which=None):
    """``max(x, max_j roll(x, s_j))`` (see :func:`axial_max`); ``which``,
    if given, is filled with the index (from 1) of the candidate that gave
    each maximum, 0 where ``x`` itself did."""
    best = x
    for j, (dim, shift) in enumerate(shifts, start=1):
        candidate = torch.roll(x, shift, dim)
        better = candidate > best
        if threshold is not None:
            better = better & (_l1(x, candidate) < threshold)
        best = torch.where(better, candidate, best)
        if which is not None:
            which.masked_fill_(better, j)
    return best


class _AxialMax(torch.autograd.Function):
    """``max(x, max_j roll(x, s_j))`` elementwise; with a ``threshold``
    ``(B, 1, 1, 1)``, a candidate counts only where its L1 distance to the
    node is below it (DAGA).

    The backward pass sends each gradient to the one element that gave the
    maximum. It keeps only which candidate that was (one byte per element),
    not the rolled candidates and comparisons autograd would keep: the
    training memory of a graph block no longer grows with its number of
    candidates.
    """

    @staticmethod
    def forward(ctx, x, shifts, threshold):
        which = None
        if ctx.needs_input_grad[0]:
            which = torch.zeros_like(
                x, dtype=torch.uint8 if len(shifts) < 256 else torch.int16)
            ctx.save_for_backward(which)
            ctx.shifts = shifts
        best = _running_max(x, shifts, threshold, which)
        return x.clone() if best is x else best

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        which, = ctx.saved_tensors
        grad_x = torch.where(which == 0, grad, 0)
        for j, (dim, shift) in enumerate(ctx.shifts, start=1):
            grad_x += torch.roll(torch.where(which == j, grad, 0), -shift, dim)
        return grad_x, None, None


def axial_max(x, shifts, threshold=None):
    """``max(x, max_j roll(x, s_j))`` elementwise over the candidate
    ``shifts`` (``[(dim, shift), ...]``); with a ``threshold``
    ``(B, 1, 1, 1)``, a candidate counts only where its L1 distance to the
    node is below it. The gradient goes to the element that gave each
    maximum."""
    if capturing_graph():
        # Exporters take plain ops, not a custom autograd Function.
        return _running_max(x, shifts, threshold)
    return _AxialMax.apply(x, shifts, threshold)


def _l1(x, y):
    """L1 distance over channels, ``(B, 1, H, W)``, summed in at least
    float32 even for half-precision features (the decisions stay those of
    float32)."""
    dtype = torch.promote_types(x.dtype, torch.float32)
    return (x - y).abs().sum(dim=1, keepdim=True, dtype=dtype)


def daga_threshold(x):
    """GreedyViG's distance threshold ``mean - std`` per image,
    ``(B, 1, 1, 1)``: statistics of the L1 distances between each node and
    the node half a grid away in both directions (``ceil(H / 2)`` rows,
    ``ceil(W / 2)`` columns), a cheap estimate of a typical distance. The
    std is unbiased; a single node has no spread (std 0). At least float32."""
    height, width = grid_size(x)
    opposite = torch.roll(x, (-(-height // 2), -(-width // 2)), (2, 3))
    dist = _l1(x, opposite)
    mean = dist.mean(dim=(2, 3), keepdim=True)
    variance = (dist - mean).square().sum(dim=(2, 3), keepdim=True) / max(
        height * width - 1, 1)
    return mean - variance.sqrt()


def opposite_shifts(height, width, stride):
    """``(dim, shift)`` of MobileViGv2's MGC candidates: the nodes
    ``stride`` rows before and after the node (dim 2), then ``stride``
    columns (dim 3); an axis only where ``stride`` is below its size (the
    authors' slices give the node itself there, which adds nothing)."""
    return [(dim, shift) for dim, size in ((2, height), (3, width))
            if stride < size for shift in (stride, -stride)]


def logarithmic_shifts(height, width):
    """``(dim, 2**i)`` of AdaptViG's long-range candidates: the nodes 2, 4,
    8, ... rows before the node, then columns, below the axis' size (a
    shift of the whole axis is the node itself)."""
    return [(dim, 2**i) for dim, size in ((2, height), (3, width))
            for i in range(1, (size - 1).bit_length())]


__all__ = ['grid_size', 'axial_shifts', 'axial_max', 'daga_threshold',
           'opposite_shifts', 'logarithmic_shifts']
