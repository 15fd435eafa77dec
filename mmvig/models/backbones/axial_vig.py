"""MobileViG and GreedyViG: pyramid Vision GNNs on axial graphs.

- `MobileViG: Graph-Based Sparse Attention for Mobile Vision Applications
  <https://arxiv.org/abs/2307.00395>`_ (Munir et al., CVPR Workshops 2023):
  three stages of inverted residuals, then a stage of SVGA graph blocks.
- `GreedyViG: Dynamic Axial Graph Construction for Efficient Vision GNNs
  <https://arxiv.org/abs/2405.06849>`_ (Munir et al., CVPR 2024): every
  stage has inverted residuals followed by DAGA graph blocks, the graph
  stride falling from 8 to 1 as the grid shrinks.

Both: a stem of two stride-2 3x3 convs (each with norm and GELU), four
stages at strides 4, 8, 16 and 32, a stride-2 3x3 conv with norm between
stages. The graphs are defined on any grid, so any input size works.
"""
import torch
import torch.nn as nn

from mmvig.registry import MODELS
from mmvig.validation import check_int, check_ints, check_range
from ..layers import ConvNorm, DAGABlock, InvertedResidual, SVGABlock
from .base import VisionGNNBase, resolve_arch


class AxialViGBase(VisionGNNBase):
    """Stem and stages shared by :class:`MobileViG` and :class:`GreedyViG`.

    Each stage is ``depths[i]`` blocks: inverted residuals, then its last
    ``graph_depths[i]`` blocks are graph blocks (:attr:`graph_block`).
    Arguments: see the subclasses.
    """

    graph_block = None
    default_graph_strides = None
    min_input_size = 32

    def __init__(self, arch, in_channels=3, graph_strides=None,
                 out_indices=-1, drop_path_rate=0.,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU'),
                 frozen_stages=0, norm_eval=False, with_cp=False,
                 init_cfg=None):
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
                         with_cp=with_cp, init_cfg=init_cfg)
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
        drop_rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
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
                    blocks.append(self.graph_block(
                        width, stride=self.graph_strides[i], **kwargs))
            stage.blocks = nn.ModuleList(blocks)
            self.stages.append(stage)

        self.feature_info = [
            dict(index=i, channels=channels[i], stride=4 * 2**i)
            for i in self.out_indices
        ]
        self._finish_build()

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
        frozen_stages, norm_eval, with_cp, init_cfg: see
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
