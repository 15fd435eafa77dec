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
- **Axial graphs** (:class:`SVGAGraph`, :class:`DAGAGraph`,
  :class:`MGCGraph`, :class:`AdaptiveAxialGraph`): a node map
  ``(B, C, H, W)`` gives an :class:`AxialGraph` (or AdaptViG's gated
  :class:`GatedAxialGraph`), the candidate shifts along rows and columns
  (and DAGA's threshold), aggregated by rolling the map.
- **Dense graphs** (:class:`GlobalAttentionGraph`): a node map gives an
  :class:`AttentionGraph`, soft edges between all nodes.

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
from .axial_graph import (axial_max, axial_shifts, daga_threshold, grid_size,
                          logarithmic_shifts, opposite_shifts)
from .knn_graph import (DEFAULT_CHUNK_BYTES, capturing_graph,
                        clamp_neighbours, fixed_size_knn_graph, knn_graph)


class GraphBuilder(nn.Module):
    """Base of the graph builders. A fixed or feature-defined graph has no
    parameters (a graph is a decision, not a learned map), so swapping such
    a builder never changes a checkpoint's keys; AdaptViG's learned graphs
    (:class:`AdaptiveAxialGraph`, :class:`GlobalAttentionGraph`) keep their
    parameters in their builders."""


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


class NodeMapGraphBuilder(GraphBuilder):
    """Base of the builders over node maps ``(B, C, H, W)`` (the axial
    graphs and AdaptViG's global attention), whose graphs aggregate with
    ``graph.max_relative(x)`` -> ``(B, C, H, W)``."""


class AxialGraphBuilder(NodeMapGraphBuilder):
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
        return AxialGraph(axial_shifts(*grid_size(x), self.stride),
                          node_minus_neighbour=True)


@MODELS.register_module()
class DAGAGraph(AxialGraphBuilder):
    """GreedyViG's Dynamic Axial Graph: a candidate is a neighbour only where
    its L1 distance to the node is below ``mean - std`` of the image's
    distances (:func:`~mmvig.ops.daga_threshold`). Args: see
    :class:`AxialGraphBuilder`."""

    def forward(self, x):
        return AxialGraph(axial_shifts(*grid_size(x), self.stride),
                          daga_threshold(x.detach()))  # a decision: no grad


@MODELS.register_module()
class MGCGraph(AxialGraphBuilder):
    """MobileViGv2's Mobile Graph Convolution graph (arXiv:2406.05850): the
    nodes ``stride`` rows before and after each node and ``stride`` columns
    before and after, wrapping around (:func:`~mmvig.ops.opposite_shifts`);
    relative features neighbour minus node. Args: see
    :class:`AxialGraphBuilder`."""

    def forward(self, x):
        return AxialGraph(opposite_shifts(*grid_size(x), self.stride))


@dataclass
class GatedAxialGraph:
    """AdaptViG's graph: axial candidates taken as they are (``shifts``),
    and candidates (``gated_shifts``) whose relative features are scaled by
    the gate ``exp(-|x_i - x_j|_1 / (|T| + 1e-6))``, which falls with the
    L1 feature distance.

    Attributes:
        shifts, gated_shifts (list[tuple[int, int]]): ``(dim, shift)`` of
            each candidate, as in :class:`AxialGraph`.
        temperature (Tensor): the learned scalar ``T``.
    """
    shifts: list
    gated_shifts: list
    temperature: torch.Tensor

    def max_relative(self, x):
        """``max(0, max_j g_j (x_j - x_i))`` over the candidates,
        ``(B, C, H, W)`` (``g = 1`` for the ungated ones)."""
        best = axial_max(x, self.shifts) - x
        scale = self.temperature.abs() + 1e-6
        for dim, shift in self.gated_shifts:
            neighbour = torch.roll(x, shift, dim)
            distance = (x - neighbour).abs().sum(dim=1, keepdim=True)
            best = torch.maximum(
                best, (neighbour - x) * torch.exp(-distance / scale))
        return best


@MODELS.register_module()
class AdaptiveAxialGraph(AxialGraphBuilder):
    """AdaptViG's graph (arXiv:2511.09942): a static scaffold of the node
    ``stride`` rows and ``stride`` columns before each node (ungated) and
    the nodes 2, 4, 8, ... before it along both axes
    (:func:`~mmvig.ops.logarithmic_shifts`), gated by exponential decay of
    their feature distance (:class:`GatedAxialGraph`).

    Unlike the other builders it has a parameter, the gate's learned
    temperature (``temperature``, initialised to 1, as the authors').

    Args:
        stride (int): the ungated candidates' distance. Defaults to 2.
    """

    def __init__(self, stride=2):
        super().__init__(stride)
        self.temperature = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        height, width = grid_size(x)
        local = [(dim, self.stride) for dim, size in ((2, height), (3, width))
                 if self.stride < size]
        return GatedAxialGraph(local, logarithmic_shifts(height, width),
                               self.temperature)


@dataclass
class AttentionGraph:
    """A dense graph with soft edges.

    Attributes:
        weights (Tensor): ``(B, N, N)``, each node's edge weights (rows sum
            to 1).
        values (Tensor): ``(B, N, C)``, what each node sends.
    """
    weights: torch.Tensor
    values: torch.Tensor

    def max_relative(self, x):
        """``max(0, sum_j w_ij v_j - x_i)``, ``(B, C, H, W)``: one
        neighbour, the weighted mean of the values."""
        mixed = (self.weights @ self.values).transpose(1, 2)
        return (mixed.reshape(x.shape) - x).clamp(min=0)


@MODELS.register_module()
class GlobalAttentionGraph(NodeMapGraphBuilder):
    """AdaptViG's global attention graph (its last stage): every node links
    every node, weighted by ``softmax(LN(q) LN(k)^T / sqrt(C / 4))`` with
    1x1-conv projections ``q``, ``k`` to ``C / 4`` channels and values
    ``v`` (1x1 conv, ``C``); see :class:`AttentionGraph`.

    A learned graph: the projections and norms are parameters.

    Args:
        channels (int): node channels ``C``.
    """

    def __init__(self, channels):
        super().__init__()
        channels = check_int('channels', channels, 4,
                             owner=type(self).__name__)
        self.q_conv = nn.Conv2d(channels, channels // 4, 1, bias=False)
        self.k_conv = nn.Conv2d(channels, channels // 4, 1, bias=False)
        self.v_conv = nn.Conv2d(channels, channels, 1, bias=False)
        self.q_norm = nn.LayerNorm(channels // 4)
        self.k_norm = nn.LayerNorm(channels // 4)

    def forward(self, x):
        def tokens(conv):  # (B, C', H, W) -> (B, N, C')
            return conv(x).flatten(2).transpose(1, 2)

        query = self.q_norm(tokens(self.q_conv))
        key = self.k_norm(tokens(self.k_conv))
        scale = (x.shape[1] // 4)**-0.5
        weights = torch.softmax(query @ key.transpose(1, 2) * scale, dim=-1)
        return AttentionGraph(weights, tokens(self.v_conv))


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
    'GraphBuilder', 'KNNGraph', 'FixedSizeKNNGraph', 'NodeMapGraphBuilder',
    'AxialGraph', 'AxialGraphBuilder', 'SVGAGraph', 'DAGAGraph', 'MGCGraph',
    'GatedAxialGraph', 'AdaptiveAxialGraph', 'AttentionGraph',
    'GlobalAttentionGraph', 'build_graph_builder', 'replace_builders',
    'graph_builders'
]
