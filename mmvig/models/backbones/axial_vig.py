"""MobileViG, GreedyViG, MobileViGv2 and AdaptViG: pyramid Vision GNNs on
axial graphs.

- `MobileViG: Graph-Based Sparse Attention for Mobile Vision Applications
  <https://arxiv.org/abs/2307.00395>`_ (Munir et al., CVPR Workshops 2023):
  three stages of inverted residuals, then a stage of SVGA graph blocks.
- `GreedyViG: Dynamic Axial Graph Construction for Efficient Vision GNNs
  <https://arxiv.org/abs/2405.06849>`_ (Munir et al., CVPR 2024): every
  stage has inverted residuals followed by DAGA graph blocks, the graph
  stride falling from 8 to 1 as the grid shrinks.
- `Scaling Graph Convolutions for Mobile Vision
  <https://arxiv.org/abs/2406.05850>`_ (MobileViGv2, Avery et al., CVPR
  Workshops 2024): GreedyViG's block layout over the fixed MGC graph.
- `AdaptViG: Adaptive Vision GNN with Exponential Decay Gating
  <https://arxiv.org/abs/2511.09942>`_ (Munir et al., WACV 2026): an axial /
  logarithmic graph with exponential-decay gates, global attention in the
  last stage.

All: a stem of two stride-2 3x3 convs (each with norm and GELU), four
stages at strides 4, 8, 16 and 32, a stride-2 3x3 conv with norm between
stages. The graphs are defined on any grid, so any input size works.
"""
import torch
import torch.nn as nn

from mmvig.registry import MODELS
from mmvig.validation import check_int, check_ints, check_range
from ..layers import (ConvNorm, DAGABlock, GraphMixerBlock, InvertedResidual,
                      SVGABlock)
from .base import VisionGNNBase, resolve_arch


class AxialViGBase(VisionGNNBase):
    """Stem and stages shared by :class:`MobileViG`, :class:`GreedyViG`,
    :class:`MobileViGv2` and :class:`AdaptViG`.

    Each stage is ``depths[i]`` blocks: inverted residuals, then its last
    ``graph_depths[i]`` blocks are graph blocks (:meth:`_graph_block`, by
    default :attr:`graph_block`). Arguments: see the subclasses.
    """

    graph_block = None
    default_graph_strides = None
    min_input_size = 32

    def __init__(self, arch, in_channels=3, graph_strides=None,
                 out_indices=-1, drop_path_rate=0.,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU'),
                 frozen_stages=0, norm_eval=False, with_cp=False,
                 init_cfg=None, pretrained=None):
        settings = resolve_arch(type(self), arch)
        depths, graph_depths, channels = (settings['depths'],
                                          settings['graph_depths'],
                                          settings['channels'])
        name = type(self).__name__
        if not len(depths) == len(graph_depths) == len(channels) >= 1:
            raise ValueError(
                f'{name} arch needs depths, graph_depths and channels with '
                f'one entry per stage, got {depths}, {graph_depths}, '
                f'{channels}')
        super().__init__(len(depths), out_indices=out_indices,
                         frozen_stages=frozen_stages, norm_eval=norm_eval,
                         with_cp=with_cp, init_cfg=init_cfg,
                         pretrained=pretrained)
        if any(not 0 <= g <= d for g, d in zip(graph_depths, depths)):
            raise ValueError(
                f'{name} graph_depths {graph_depths} must be in [0, depth] '
                f'of each stage (depths {depths})')
        if graph_strides is None:
            graph_strides = self.default_graph_strides
        if isinstance(graph_strides, int):
            graph_strides = [check_int('graph_strides', graph_strides,
                                       owner=name)] * len(depths)
        graph_strides = check_ints('graph_strides', graph_strides,
                                   length=len(depths), owner=name)
        check_range('drop_path_rate', drop_path_rate, 0, 1, high_open=True,
                    owner=name)
        check_int('in_channels', in_channels, owner=name)
        self.depths, self.graph_depths = list(depths), list(graph_depths)
        self.channels, self.graph_strides = list(channels), list(graph_strides)

        c0 = channels[0]
        self.stem = nn.Sequential(
            ConvNorm(in_channels, c0 // 2, 3, 2, norm_cfg=norm_cfg,
                     act_cfg=act_cfg),
            ConvNorm(c0 // 2, c0, 3, 2, norm_cfg=norm_cfg, act_cfg=act_cfg))
        drop_rates = self._drop_rates(drop_path_rate)
        self.stages = nn.ModuleList()
        for i, (depth, width) in enumerate(zip(depths, channels)):
            stage = nn.Module()
            if i > 0:
                stage.downsample = ConvNorm(channels[i - 1], width, 3, 2,
                                            norm_cfg=norm_cfg)
            blocks = []
            for j in range(depth):
                kwargs = dict(drop_path=drop_rates.pop(0), norm_cfg=norm_cfg,
                              act_cfg=act_cfg)
                if j < depth - graph_depths[i]:
                    blocks.append(InvertedResidual(width, **kwargs))
                else:
                    blocks.append(self._graph_block(i, width, **kwargs))
            stage.blocks = nn.ModuleList(blocks)
            self.stages.append(stage)

        self.feature_info = [
            dict(index=i, channels=channels[i], stride=4 * 2**i)
            for i in self.out_indices
        ]
        self._finish_build()

    def _drop_rates(self, rate):
        """Stochastic depth of each block in order: linear from 0 to
        ``rate``."""
        return torch.linspace(0, rate, sum(self.depths)).tolist()

    def _graph_block(self, stage, channels, **kwargs):
        """A graph block of stage ``stage``."""
        return self.graph_block(channels, stride=self.graph_strides[stage],
                                **kwargs)

    def _stage_names(self):
        return [[f'stages.{i}'] for i in range(self.num_outputs)]

    def _layer_groups(self):
        return self._staged_layer_groups()

    def forward(self, x):
        """``(B, C_in, H, W)`` -> tuple of ``(B, C_i, H / s_i, W / s_i)``
        (rounded up) with ``s_i = 4 * 2**i``, one per ``out_indices``."""
        self._check_input(x)
        return self._forward_stages(
            self.stem(x.contiguous(memory_format=torch.channels_last)))


@MODELS.register_module()
class MobileViG(AxialViGBase):
    """MobileViG backbone: inverted residuals in stages 0-2, SVGA graph
    blocks (with FFN) in stage 3.

    Args:
        arch (str | dict): ``'ti'`` / ``'tiny'``, ``'s'`` / ``'small'``,
            ``'m'`` / ``'medium'``, ``'b'`` / ``'base'`` or a dict with
            ``depths``, ``graph_depths`` and ``channels`` (one per stage).
        in_channels (int): image channels. Defaults to 3.
        graph_strides (int | Sequence[int]): stride ``K`` of each stage's
            SVGA graph (every ``K``-th row and column). Defaults to 2.
        out_indices (int | Sequence[int]): stages whose outputs are
            returned (strides 4, 8, 16, 32). Defaults to -1 (the last).
        drop_path_rate (float): stochastic depth of the last block (linear
            from 0 over all blocks). Defaults to 0 (the paper trains with
            0.1).
        norm_cfg (dict): every norm layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): every activation. Defaults to
            ``dict(type='GELU')``.
        frozen_stages, norm_eval, with_cp, init_cfg, pretrained: see
            :class:`VisionGNNBase`. ``init_cfg=dict(type='Pretrained',
            checkpoint=..., ema=True)`` loads the EMA weights of the
            authors' training checkpoints.
    """

    arch_settings = {
        **dict.fromkeys(['ti', 'tiny'], dict(
            depths=[2, 2, 6, 2], graph_depths=[0, 0, 0, 2],
            channels=[42, 84, 168, 256])),
        **dict.fromkeys(['s', 'small'], dict(
            depths=[3, 3, 9, 3], graph_depths=[0, 0, 0, 3],
            channels=[42, 84, 176, 256])),
        **dict.fromkeys(['m', 'medium'], dict(
            depths=[3, 3, 9, 3], graph_depths=[0, 0, 0, 3],
            channels=[42, 84, 224, 400])),
        **dict.fromkeys(['b', 'base'], dict(
            depths=[5, 5, 15, 5], graph_depths=[0, 0, 0, 5],
            channels=[42, 84, 240, 464])),
    }
    graph_block = SVGABlock
    default_graph_strides = 2

    def __init__(self, arch='ti', **kwargs):
        super().__init__(arch, **kwargs)


@MODELS.register_module()
class GreedyViG(AxialViGBase):
    """GreedyViG backbone: in every stage, inverted residuals then DAGA
    graph blocks (with a 7x7 conditional position encoding).

    Args:
        arch (str | dict): ``'s'`` / ``'small'``, ``'m'`` / ``'medium'``,
            ``'b'`` / ``'base'`` or a dict with ``depths``,
            ``graph_depths`` and ``channels`` (one per stage).
        graph_strides (int | Sequence[int]): stride ``K`` of each stage's
            DAGA graph (every ``K``-th row and column). Defaults to
            ``(8, 4, 2, 1)``.
        **kwargs: the other arguments of :class:`MobileViG`.
    """

    arch_settings = {
        **dict.fromkeys(['s', 'small'], dict(
            depths=[4, 4, 8, 4], graph_depths=[2, 2, 2, 2],
            channels=[48, 96, 192, 384])),
        **dict.fromkeys(['m', 'medium'], dict(
            depths=[6, 6, 12, 6], graph_depths=[3, 3, 3, 3],
            channels=[56, 112, 224, 448])),
        **dict.fromkeys(['b', 'base'], dict(
            depths=[8, 8, 16, 6], graph_depths=[4, 4, 4, 3],
            channels=[64, 128, 256, 512])),
    }
    graph_block = DAGABlock
    default_graph_strides = (8, 4, 2, 1)

    def __init__(self, arch='s', **kwargs):
        super().__init__(arch, **kwargs)


@MODELS.register_module()
class MobileViGv2(AxialViGBase):
    """MobileViGv2 backbone: inverted residuals, then in stages 1-3 graph
    blocks over the MGC graph (:class:`~mmvig.ops.MGCGraph`), each with a
    7x7 conditional position encoding that :meth:`fuse` re-parameterises
    (RepCPE).

    Args:
        arch (str | dict): ``'ti'`` / ``'tiny'``, ``'s'`` / ``'small'``,
            ``'m'`` / ``'medium'``, ``'b'`` / ``'base'`` or a dict with
            ``depths``, ``graph_depths`` and ``channels`` (one per stage).
        graph_strides (int | Sequence[int]): MGC distance ``K`` of each
            stage. Defaults to ``(8, 8, 4, 2)`` (the authors' ``K`` of
            stages 1-3; stage 0 has no graph blocks).
        drop_path_rate (float): stochastic depth of the last graph block,
            on the authors' schedule (a block's rate is indexed by the
            number of graph blocks before it). Defaults to 0 (the paper
            trains with 0.1).
        **kwargs: the other arguments of :class:`MobileViG`.
    """

    arch_settings = {
        **dict.fromkeys(['ti', 'tiny'], dict(
            depths=[2, 4, 8, 4], graph_depths=[0, 2, 2, 2],
            channels=[32, 64, 128, 256])),
        **dict.fromkeys(['s', 'small'], dict(
            depths=[3, 6, 12, 6], graph_depths=[0, 3, 3, 3],
            channels=[32, 64, 128, 256])),
        **dict.fromkeys(['m', 'medium'], dict(
            depths=[3, 6, 12, 6], graph_depths=[0, 3, 3, 3],
            channels=[32, 64, 192, 384])),
        **dict.fromkeys(['b', 'base'], dict(
            depths=[3, 6, 12, 6], graph_depths=[0, 3, 3, 3],
            channels=[64, 128, 256, 512])),
    }
    default_graph_strides = (8, 8, 4, 2)

    def __init__(self, arch='ti', **kwargs):
        super().__init__(arch, **kwargs)

    def _drop_rates(self, rate):
        # The authors' loop advances its index into linspace(0, rate,
        # blocks) only after a graph block.
        steps = torch.linspace(0, rate, sum(self.depths)).tolist()
        rates, graph_blocks = [], 0
        for depth, graphs in zip(self.depths, self.graph_depths):
            for j in range(depth):
                rates.append(steps[graph_blocks])
                graph_blocks += j >= depth - graphs
        return rates

    def _graph_block(self, stage, channels, **kwargs):
        return GraphMixerBlock(channels, dict(
            type='mmvig.MGCGraph', stride=self.graph_strides[stage]),
            **kwargs)


@MODELS.register_module()
class AdaptViG(AxialViGBase):
    """AdaptViG backbone: in every stage, inverted residuals then graph
    blocks (with a 7x7 conditional position encoding); stages 0-2 over the
    gated axial / logarithmic graph (:class:`~mmvig.ops.AdaptiveAxialGraph`),
    the last stage over global attention
    (:class:`~mmvig.ops.GlobalAttentionGraph`).

    Args:
        arch (str | dict): ``'s'`` / ``'small'``, ``'m'`` / ``'medium'``,
            ``'b'`` / ``'base'`` or a dict with ``depths``,
            ``graph_depths`` and ``channels`` (one per stage).
        graph_strides (int | Sequence[int]): distance ``K`` of the ungated
            axial neighbours of each stage (the last stage's attention has
            none). Defaults to ``(8, 4, 2, 1)``.
        **kwargs: the other arguments of :class:`MobileViG`.
    """

    arch_settings = {
        **dict.fromkeys(['s', 'small'], dict(
            depths=[6, 6, 12, 6], graph_depths=[3, 3, 3, 3],
            channels=[32, 64, 128, 256])),
        **dict.fromkeys(['m', 'medium'], dict(
            depths=[8, 8, 16, 8], graph_depths=[4, 4, 4, 4],
            channels=[48, 96, 192, 320])),
        **dict.fromkeys(['b', 'base'], dict(
            depths=[10, 10, 20, 10], graph_depths=[5, 5, 5, 5],
            channels=[48, 96, 192, 384])),
    }
    default_graph_strides = (8, 4, 2, 1)

    def __init__(self, arch='s', **kwargs):
        super().__init__(arch, **kwargs)

    def _graph_block(self, stage, channels, **kwargs):
        if stage == len(self.depths) - 1:
            graph = dict(type='mmvig.GlobalAttentionGraph', channels=channels)
        else:
            graph = dict(type='mmvig.AdaptiveAxialGraph',
                         stride=self.graph_strides[stage])
        return GraphMixerBlock(channels, graph, **kwargs)
