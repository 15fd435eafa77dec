"""Pyramid Vision GNN.

`Vision GNN: An Image is Worth Graph of Nodes <https://arxiv.org/abs/2206.00272>`_
(Han et al., NeurIPS 2022), Table 2: a stride-4 conv stem and four stages at
strides 4, 8, 16 and 32, with a stride-2 conv between stages. Keys of the
KNN graph are the nodes average-pooled by 4, 2, 1, 1 per stage, and a
relative-position bias is added to the feature distance.
"""
import torch
import torch.nn as nn

from mmvig.registry import MODELS
from mmvig.validation import check_divisible, check_int, check_ints
from ..layers import ConvNorm, ConvStem, ViGBlock
from .base import KNNViGBase, resolve_arch


@MODELS.register_module()
class PyramidViG(KNNViGBase):
    """Pyramid Vision GNN backbone.

    Args:
        arch (str | dict): ``'ti'`` / ``'tiny'``, ``'s'`` / ``'small'``,
            ``'m'`` / ``'medium'``, ``'b'`` / ``'base'`` or a dict with
            ``depths`` and ``channels`` (one per stage).
        in_channels (int): image channels. Defaults to 3.
        k (int): neighbours per node. Defaults to 9.
        graph_cfg (dict): the graph builder of every block; the backbone
            sets its ``k`` and ``dilation``. Defaults to
            ``dict(type='mmvig.KNNGraph')`` (its ``stochastic``, ``epsilon``
            and ``max_chunk_bytes`` are options here).
        reduce_ratios (Sequence[int]): key pooling ratio of each stage.
            Defaults to ``(4, 2, 1, 1)``.
        graph_conv_type (str): ``'mr'``, ``'edge'``, ``'sage'`` or
            ``'gin'``. Defaults to ``'mr'``.
        use_dilation (bool): dilated KNN, ``min(i // 4 + 1, ...)`` for the
            ``i``-th block overall. Defaults to True.
        relative_pos (bool): relative-position bias in the KNN. Defaults to
            True.
        train_size (int): input size the position embedding is stored for;
            other sizes resize it. Defaults to 224.
        out_indices (int | Sequence[int]): stages whose outputs are
            returned (strides 4, 8, 16, 32). Defaults to -1 (the last).
        drop_path_rate (float): stochastic depth of the last block (linear
            from 0). Defaults to 0.
        norm_cfg (dict): every norm layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): every activation. Defaults to
            ``dict(type='GELU')``.
        frozen_stages, norm_eval, with_cp, init_cfg: see
            :class:`VisionGNNBase`.
    """

    arch_settings = {
        **dict.fromkeys(['ti', 'tiny'], dict(depths=[2, 2, 6, 2],
                                             channels=[48, 96, 240, 384])),
        **dict.fromkeys(['s', 'small'], dict(depths=[2, 2, 6, 2],
                                             channels=[80, 160, 400, 640])),
        **dict.fromkeys(['m', 'medium'], dict(depths=[2, 2, 16, 2],
                                              channels=[96, 192, 384, 768])),
        **dict.fromkeys(['b', 'base'], dict(depths=[2, 2, 18, 2],
                                            channels=[128, 256, 512, 1024])),
    }
    min_input_size = 32

    def __init__(self, arch='tiny', in_channels=3, k=9,
                 graph_cfg=dict(type='mmvig.KNNGraph'),
                 reduce_ratios=(4, 2, 1, 1), graph_conv_type='mr',
                 use_dilation=True, relative_pos=True, train_size=224,
                 out_indices=-1, drop_path_rate=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU'), frozen_stages=0, norm_eval=False,
                 with_cp=False, init_cfg=None):
        settings = resolve_arch(type(self), arch)
        owner = type(self).__name__
        depths = check_ints('arch depths', settings['depths'], owner=owner)
        super().__init__(len(depths), train_size=train_size,
                         out_indices=out_indices, frozen_stages=frozen_stages,
                         norm_eval=norm_eval, with_cp=with_cp,
                         init_cfg=init_cfg)
        self.depths = depths
        self.channels = check_ints('arch channels', settings['channels'],
                                   length=len(depths), owner=owner)
        # The stem's first conv has channels[0] // 2 outputs.
        check_int('arch channels[0]', self.channels[0], 2, owner=owner)
        if relative_pos:
            for i, width in enumerate(self.channels):
                check_divisible(f'arch channels[{i}]', width, 4,
                                'the sin-cos relative-position embedding',
                                owner=owner)
        reduce_ratios = check_ints('reduce_ratios', reduce_ratios,
                                   length=len(depths), owner=owner)
        self._check_args(in_channels, k, drop_path_rate)

        c0 = self.channels[0]
        self.stem = ConvStem(in_channels, [c0 // 2, c0, c0], [2, 2, 1],
                             norm_cfg=norm_cfg, act_cfg=act_cfg)
        grid = self.train_size // self.stem.stride
        self.pos_embed = nn.Parameter(torch.zeros(1, c0, grid, grid))

        num_blocks = sum(self.depths)
        # 49 keys at stride 32 for a 224 input bound the dilation.
        last_grid = self.train_size // (self.stem.stride *
                                        2**(self.num_outputs - 1))
        max_dilation = max(1, last_grid * last_grid // k)
        drop_rates = torch.linspace(0, drop_path_rate, num_blocks).tolist()
        self.stages = nn.ModuleList()
        block_index = 0
        for i, (depth, channels) in enumerate(zip(self.depths, self.channels)):
            stage = nn.Module()
            if i > 0:
                stage.downsample = ConvNorm(
                    self.channels[i - 1], channels, 3, stride=2,
                    norm_cfg=norm_cfg)
            blocks = []
            for _ in range(depth):
                blocks.append(
                    ViGBlock(
                        channels,
                        graph_cfg=self._block_graph_cfg(
                            graph_cfg, k,
                            min(block_index // 4 + 1, max_dilation)
                            if use_dilation else 1),
                        reduce_ratio=reduce_ratios[i],
                        relative_pos=relative_pos, conv_type=graph_conv_type,
                        drop_path=drop_rates[block_index], norm_cfg=norm_cfg,
                        act_cfg=act_cfg))
                block_index += 1
            stage.blocks = nn.ModuleList(blocks)
            self.stages.append(stage)

        self.feature_info = [
            dict(index=i, channels=self.channels[i],
                 stride=self.stem.stride * 2**i) for i in self.out_indices
        ]
        self._finish_build()

    def _stage_names(self):
        return [[f'stages.{i}'] for i in range(self.num_outputs)]

    def _layer_groups(self):
        return self._staged_layer_groups()

    def _graph_layers(self):
        return [(block.grapher, self.stem.stride * 2**i)
                for i, stage in enumerate(self.stages)
                for block in stage.blocks]

    def forward(self, x):
        """``(B, C_in, H, W)`` -> tuple of ``(B, C_i, H / s_i, W / s_i)``
        with ``s_i = 4 * 2**i``, one per ``out_indices``."""
        self._check_input(x)
        return self._forward_stages(self._embed(x))
