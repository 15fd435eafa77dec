"""Comparing graphs up to ties, and the rounding tolerances that decide a
tie.

A neighbour list is a ranking of float32 distances. Two computations of the
same distances (another runtime, kernel, summation order or precision, or
mmpretrain's port) may order two keys whose distances are equal to rounding
differently, after which their outputs legitimately part. Comparing two
implementations of a Vision GNN therefore means: record one's graphs
(:func:`record_graphs`), make the other follow them (:func:`follow_graphs`)
while checking that every node where they differ is a tie by float64
distances (else :class:`GraphMismatchError`), then compare the outputs.

Both work through forward hooks on the graph builders
(:mod:`mmvig.ops.graph_builders`), or on any module that returns a graph
(mmpretrain's ``DenseDilatedKnnGraph``), and inside ``torch.compile`` too.
Deployment, the benchmark, the AMP agreement tool and the tests all use
this module.
"""
import contextlib

import torch
import torch.nn.functional as F

from mmvig.ops import DAGAGraph, KNNGraph, graph_builders


class GraphMismatchError(ValueError):
    """Two graphs differ at a node where the distances are not equal to
    rounding (the implementations disagree, they do not just break a tie
    differently), or one built more graphs than the other."""


def rounding_tol(terms, magnitude, dtype=torch.float32):
    """Tolerance for two computations of the same sums in ``dtype`` that
    differ only in rounding (another summation order, blocking or kernel):
    each side is within ``terms * u * magnitude`` of the exact value
    (Higham's bound for a sum of ``terms`` products whose absolute values
    add up to ``magnitude``; ``u`` is the unit roundoff), so the two are
    within twice that. ``magnitude`` may be a tensor (one bound per
    element)."""
    unit_roundoff = torch.finfo(dtype).eps / 2
    if isinstance(magnitude, torch.Tensor):
        return 2 * terms * unit_roundoff * magnitude.detach().double()
    return 2 * terms * unit_roundoff * float(magnitude)


def knn_tie_tol(channels, bias_scale=0., dtype=torch.float32):
    """Distances closer than this are equal to ``dtype`` rounding: a
    ``channels``-term dot product plus the squared norms (terms of absolute
    sum at most 4 for unit vectors), and a relative-position bias of at most
    ``bias_scale``, itself a ``channels``-term product resized by 4-tap
    bicubic filters."""
    return rounding_tol(2 * channels + 10, 4 + 2 * bias_scale, dtype)


def knn_distances(x, y=None, pos_factors=None):
    """Float64 squared distances plus bias ``(B, N, M)`` of queries ``x``
    ``(B, C, N)`` and keys ``y`` ``(B, C, M)`` (``None``: the queries), the
    way :class:`~mmvig.ops.KNNGraph` ranks them, and the largest absolute
    bias (for :func:`knn_tie_tol`)."""
    x = F.normalize(x.double(), dim=1)
    y = x if y is None else F.normalize(y.double(), dim=1)
    dist = (y.pow(2).sum(1, keepdim=True) - 2 * x.transpose(1, 2) @ y +
            x.pow(2).sum(1).unsqueeze(-1))
    bias_scale = 0.
    if pos_factors is not None:
        query, key = pos_factors
        bias = query.double() @ key.double().t()
        dist = dist + bias
        bias_scale = bias.abs().max().item() if bias.numel() else 0.
    return dist, bias_scale


def count_tie_flips(got, expected, dist, tol, where='a KNN'):
    """The number of nodes whose neighbour sets differ between ``got`` and
    ``expected`` (``(B, N, k)`` indices), each checked to be a tie: its
    neighbours' sorted distances (``dist`` ``(B, N, M)``) agree within
    ``tol``. Raises :class:`GraphMismatchError` naming ``where`` otherwise."""
    if got.shape != expected.shape:
        raise GraphMismatchError(f'{where}: graphs of shapes {tuple(got.shape)} '
                           f'and {tuple(expected.shape)}')
    differ = (got.sort(-1).values != expected.sort(-1).values).any(-1)
    if not differ.any():
        return 0
    mine = dist.gather(-1, got).sort(-1).values[differ]
    theirs = dist.gather(-1, expected).sort(-1).values[differ]
    gap = (mine - theirs).abs().amax(-1)
    worst = int(gap.argmax())
    if gap[worst] > tol:
        sample, node = differ.nonzero()[worst].tolist()
        raise GraphMismatchError(
            f'{where}, sample {sample}, node {node}: the neighbours differ '
            f'by a distance of {gap[worst].item():.3g}, more than a tie '
            f'({tol:.3g}): {mine[worst].tolist()} vs '
            f'{theirs[worst].tolist()}')
    return int(differ.sum())


@contextlib.contextmanager
def _hooked(model, kind, hook):
    """``hook`` as a forward hook of every module of type ``kind`` in
    ``model`` while in the block."""
    handles = [m.register_forward_hook(hook)
               for m in graph_builders(model, kind)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def record_graphs(model, kind=KNNGraph, select=None):
    """Collect the graph of every module of type ``kind`` in ``model`` (by
    default mmvig's neighbour-list builders), in call order, into the
    yielded list; ``select`` maps a module's output to the graph (e.g.
    ``lambda edge_index: edge_index[0]`` for mmpretrain's
    ``DenseDilatedKnnGraph``)."""
    graphs = []

    def hook(module, args, output):
        graphs.append(output if select is None else select(output))

    with _hooked(model, kind, hook):
        yield graphs


@contextlib.contextmanager
def follow_graphs(model, graphs):
    """Make every neighbour-list builder of ``model`` return the next of
    ``graphs`` (a list, consumed in order) instead of its own neighbours,
    checking that each node where they differ is a tie by float64 distances
    (:func:`count_tie_flips`).

    Builders return fewer than ``k`` columns when there are fewer keys; a
    fixed-size graph then repeats its farthest key, so only the first
    columns are compared and followed.

    Yields:
        dict: ``flips``, the number of nodes that took the given neighbours,
        and ``calls``, the number of graphs followed (read them after the
        block; graphs left in the list were not used).
    """
    stats = dict(flips=0, calls=0)

    def hook(builder, args, ours):
        if not graphs:
            raise GraphMismatchError(
                f'more graphs built than given ({stats["calls"]})')
        theirs = graphs.pop(0).to(ours.device)[..., :ours.shape[-1]]
        where = f'graph {stats["calls"]} ({ours.shape[1]} queries)'
        if theirs.shape[:2] != ours.shape[:2]:
            raise GraphMismatchError(f'{where}: a graph of shape '
                               f'{tuple(theirs.shape)} given for one of '
                               f'shape {tuple(ours.shape)}')
        x, y, pos_factors = (list(args) + [None, None])[:3]
        dist, bias_scale = knn_distances(x, y, pos_factors)
        stats['flips'] += count_tie_flips(
            ours, theirs, dist, knn_tie_tol(x.shape[1], bias_scale), where)
        stats['calls'] += 1
        return theirs

    with _hooked(model, KNNGraph, hook):
        yield stats


@contextlib.contextmanager
def daga_margins(model):
    """Watch every :class:`~mmvig.ops.DAGAGraph` of ``model`` decide: the
    yielded dict gets ``margin``, the smallest gap between a candidate's L1
    distance and its threshold relative to the threshold's magnitude (in
    float64, from the features the model computed), and ``decisions``, the
    number of candidate decisions seen.

    Two runtimes that agree within a relative tolerance make the same DAGA
    graph wherever ``margin`` exceeds it; below it a decision is a tie
    that either may take.
    """
    stats = dict(margin=float('inf'), decisions=0)

    def hook(builder, args, graph):
        x = args[0].detach().double()
        threshold = graph.threshold.double()
        for dim, shift in graph.shifts:
            distance = (x - torch.roll(x, shift, dim)).abs().sum(
                1, keepdim=True)
            gap = (distance - threshold).abs() / threshold.abs()
            stats['margin'] = min(stats['margin'], gap.min().item())
            stats['decisions'] += distance.numel()

    with _hooked(model, DAGAGraph, hook):
        yield stats


def relative_errors(outputs, reference):
    """``max |a - b| / max |b|`` of each pair of tensors."""
    errors = []
    for got, expected in zip(outputs, reference, strict=True):
        if got.shape != expected.shape:
            raise ValueError(f'output shapes differ: {tuple(got.shape)} vs '
                             f'{tuple(expected.shape)}')
        scale = expected.abs().max().clamp(min=torch.finfo(
            expected.dtype).tiny)
        errors.append(float((got - expected).abs().max() / scale))
    return errors


__all__ = [
    'GraphMismatchError', 'rounding_tol', 'knn_tie_tol', 'knn_distances',
    'count_tie_flips', 'record_graphs', 'follow_graphs', 'daga_margins',
    'relative_errors'
]
