"""Graph builders: the one seam through which every Vision GNN builds its
graph.

A builder is a module registered in mmvig's ``MODELS`` registry, owned by a
Grapher as ``self.graph`` and chosen in a config (``graph_cfg``)::

    backbone=dict(type='mmvig.PyramidViG', arch='small',
                  graph_cfg=dict(type='mmvig.KNNGraph', max_chunk_bytes=None))

Two kinds, by what they return:

- **Neighbour lists** (:class:`KNNGraph` and its subclasses): queries
  ``(B, C, N)`` and keys ``(B, C, M)`` give neighbour indices ``(B, N, k)``
  into the keys, which :class:`~mmvig.ops.GraphConv` aggregates. The
  backbone sets ``k`` and ``dilation`` per block (the paper's schedule);
  the config chooses the rest.
- **Axial graphs** (:class:`SVGAGraph`, :class:`DAGAGraph`): a node map
  ``(B, C, H, W)`` gives an :class:`AxialGraph`, the candidate shifts along
  rows and columns (and DAGA's threshold), aggregated by rolling the map.

Runtimes and tools reach graphs through these modules, never by patching
functions: forward hooks on the builders record or replace their graphs
(:mod:`mmvig.ties`), and :func:`replace_builders` swaps them for the span
of a ``with`` block. A new graph type is one new builder here, chosen from
a config, with the Graphers unchanged.
"""
import contextlib
from dataclasses import dataclass

import torch
import torch.nn as nn

from mmvig.registry import MODELS
from mmvig.validation import check_chunk_bytes, check_int, check_range
from .axial_graph import axial_max, axial_shifts, daga_threshold
from .knn_graph import (DEFAULT_CHUNK_BYTES, capturing_graph,
                        clamp_neighbours, fixed_size_knn_graph, knn_graph)


class GraphBuilder(nn.Module):
    """Base of the graph builders; a builder has no parameters (a graph is a
    decision, not a learned map), so swapping one never changes a
    checkpoint's keys."""


@MODELS.register_module()
class KNNGraph(GraphBuilder):
    """Dilated k-nearest neighbours in L2-normalised feature space
    (:func:`~mmvig.ops.knn_graph`), memory-bounded in chunks of queries;
    while a graph is captured for export or compilation, the fixed-size form
    of :class:`FixedSizeKNNGraph`.

    Args:
        k (int): neighbours per query. Defaults to 9.
        dilation (int): keep every ``dilation``-th of the ``k * dilation``
            nearest. Defaults to 1.
        stochastic (bool): during training, with probability ``epsilon``
            keep a random ``k`` of them instead. Defaults to False (as in
            all released models).
        epsilon (float): see ``stochastic``. Defaults to 0.2.
        max_chunk_bytes (int, optional): bound on a distance block;
            ``None`` computes all queries at once (the dense formulation).
            Defaults to 64 MiB.
    """

    def __init__(self, k=9, dilation=1, stochastic=False, epsilon=0.2,
                 max_chunk_bytes=DEFAULT_CHUNK_BYTES):
        super().__init__()
        owner = type(self).__name__
        self.k = check_int('k', k, owner=owner)
        self.dilation = check_int('dilation', dilation, owner=owner)
        self.stochastic = bool(stochastic)
        self.epsilon = check_range('epsilon', epsilon, 0, 1, owner=owner)
        self.max_chunk_bytes = check_chunk_bytes(
            'max_chunk_bytes', max_chunk_bytes, owner=owner)

    def clamped(self, num_keys):
        """``(k, dilation)`` this builder uses with ``num_keys`` keys (fewer
        when ``k * dilation`` exceeds them, see
        :func:`~mmvig.ops.clamp_neighbours`)."""
        return clamp_neighbours(self.k, self.dilation, num_keys)

    def forward(self, x, y=None, pos_factors=None):
        """Queries ``x`` ``(B, C, N)``, keys ``y`` ``(B, C, M)`` (``None``:
        the queries) and relative-position factors -> indices ``(B, N, k)``
        into the keys, nearest first."""
        if capturing_graph():
            return self._fixed_size(x, y, pos_factors)
        return knn_graph(
            x, y, self.k, self.dilation, stochastic=self.stochastic,
            epsilon=self.epsilon, training=self.training,
            pos_factors=pos_factors, max_chunk_bytes=self.max_chunk_bytes)

    def _fixed_size(self, x, y, pos_factors):
        return fixed_size_knn_graph(
            x, y, self.k, self.dilation, pos_factors=pos_factors,
            sample_probability=self.epsilon
            if self.stochastic and self.training else 0)

    def extra_repr(self):
        return (f'k={self.k}, dilation={self.dilation}'
                + (f', stochastic, epsilon={self.epsilon}'
                   if self.stochastic else ''))


@MODELS.register_module()
class FixedSizeKNNGraph(KNNGraph):
    """:class:`KNNGraph` as fixed-size ops always (one distance block, a
    top-k of the constant ``k * dilation`` over keys padded with ``+inf``):
    what exported and compiled graphs run, selectable in eager mode too.
    The same neighbours wherever there are at least ``k`` keys; no memory
    bound (``max_chunk_bytes`` is ignored)."""

    def forward(self, x, y=None, pos_factors=None):
        return self._fixed_size(x, y, pos_factors)


@dataclass
class AxialGraph:
    """A graph of axial candidates: node ``(h, w)`` and the nodes ``shift``
    rows or columns before it, wrapping around the border.

    Attributes:
        shifts (list[tuple[int, int]]): ``(dim, shift)`` of each candidate
            (dim 2: rows, 3: columns).
        threshold (Tensor, optional): ``(B, 1, 1, 1)``; a candidate is a
            neighbour only where its L1 distance to the node is below it
            (DAGA). ``None``: every candidate is (SVGA).
        node_minus_neighbour (bool): relative features ``x_i - x_j`` (SVGA)
            instead of ViG's ``x_j - x_i``.
    """
    shifts: list
    threshold: torch.Tensor = None
    node_minus_neighbour: bool = False

    def max_relative(self, x):
        """``max_j`` of the relative features over the node and its
        neighbours, ``(B, C, H, W)``, never below zero (a node without
        neighbours gets zeros)."""
        if self.node_minus_neighbour:
            # max_j (x_i - x_j) = -(min_j x_j - x_i): the same running
            # maximum on negated features.
            negated = -x
            return axial_max(negated, self.shifts, self.threshold) - negated
        return axial_max(x, self.shifts, self.threshold) - x


class AxialGraphBuilder(GraphBuilder):
    """Base of the axial builders: node maps ``(B, C, H, W)`` ->
    :class:`AxialGraph` over every ``stride``-th row and column.

    Args:
        stride (int): every ``stride``-th row and column is a candidate.
            Defaults to 2.
    """

    def __init__(self, stride=2):
        super().__init__()
        self.stride = check_int('stride', stride, owner=type(self).__name__)

    def extra_repr(self):
        return f'stride={self.stride}'


@MODELS.register_module()
class SVGAGraph(AxialGraphBuilder):
    """MobileViG's Sparse Vision Graph Attention graph: every candidate is a
    neighbour; relative features node minus neighbour, as the authors'
    weights were trained. Args: see :class:`AxialGraphBuilder`."""

    def forward(self, x):
        return AxialGraph(axial_shifts(*x.shape[-2:], self.stride),
                          node_minus_neighbour=True)


@MODELS.register_module()
class DAGAGraph(AxialGraphBuilder):
    """GreedyViG's Dynamic Axial Graph: a candidate is a neighbour only where
    its L1 distance to the node is below ``mean - std`` of the image's
    distances (:func:`~mmvig.ops.daga_threshold`). Args: see
    :class:`AxialGraphBuilder`."""

    def forward(self, x):
        return AxialGraph(axial_shifts(*x.shape[-2:], self.stride),
                          daga_threshold(x.detach()))  # a decision: no grad


def build_graph_builder(cfg, kind, owner):
    """The builder of ``cfg`` (registered in mmvig's ``MODELS``), which must
    be of type ``kind``; ``owner`` names who asked in the error."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'{owner}: graph_cfg must be a dict with a type, '
                        f'e.g. dict(type=\'mmvig.{kind.__name__}\'), got '
                        f'{cfg!r}')
    cls = MODELS.get(cfg['type']) if isinstance(cfg['type'], str) \
        else cfg['type']
    if cls is None:
        raise KeyError(f'{owner}: graph_cfg type {cfg["type"]!r} is not a '
                       f'registered graph builder; mmvig has '
                       f'{", ".join(sorted(_builder_names()))}')
    if not (isinstance(cls, type) and issubclass(cls, kind)):
        raise TypeError(f'{owner}: graph_cfg must build a {kind.__name__} '
                        f'(or a subclass), got {cls.__name__}')
    return MODELS.build(cfg)


def _builder_names():
    return [f'mmvig.{name}' for name, cls in MODELS.module_dict.items()
            if isinstance(cls, type) and issubclass(cls, GraphBuilder)]


@contextlib.contextmanager
def replace_builders(model, make, kind=KNNGraph):
    """Within the block, every builder of type ``kind`` in ``model`` is
    replaced by ``make(builder)`` (a module); the originals are back after
    it, also on an error."""
    owners = [(owner, name, child) for owner in model.modules()
              for name, child in owner.named_children()
              if isinstance(child, kind)]
    for owner, name, child in owners:
        setattr(owner, name, make(child))
    try:
        yield
    finally:
        for owner, name, child in owners:
            setattr(owner, name, child)


def graph_builders(model, kind=KNNGraph):
    """The builders of type ``kind`` in ``model``, in forward order of the
    blocks that own them."""
    return [m for m in model.modules() if isinstance(m, kind)]


__all__ = [
    'GraphBuilder', 'KNNGraph', 'FixedSizeKNNGraph', 'AxialGraph',
    'AxialGraphBuilder', 'SVGAGraph', 'DAGAGraph', 'build_graph_builder',
    'replace_builders', 'graph_builders'
]
