"""Isotropic Vision GNN.

`Vision GNN: An Image is Worth Graph of Nodes <https://arxiv.org/abs/2206.00272>`_
(Han et al., NeurIPS 2022), Table 1: a stride-16 conv stem, then ``depth``
ViG blocks on a fixed number of nodes; ``k`` grows linearly from 9 to 18 and
the KNN dilation with depth.
"""
import torch
import torch.nn as nn

from mmvig.registry import MODELS
from mmvig.validation import check_int
from ..layers import ConvStem, ViGBlock
from .base import KNNViGBase, resolve_arch


@MODELS.register_module()
class ViG(KNNViGBase):
    """Isotropic Vision GNN backbone.

    Args:
        arch (str | dict): ``'ti'`` / ``'tiny'``, ``'s'`` / ``'small'``,
            ``'b'`` / ``'base'`` or a dict with ``depth`` and ``channels``.
        in_channels (int): image channels. Defaults to 3.
        k (int): neighbours of the first block; the last has ``2 * k``.
            Defaults to 9.
        graph_cfg (dict): the graph builder of every block; the backbone
            sets its ``k`` and ``dilation``. Defaults to
            ``dict(type='mmvig.KNNGraph')`` (its ``stochastic``, ``epsilon``
            and ``max_chunk_bytes`` are options here).
        graph_conv_type (str): ``'mr'``, ``'edge'``, ``'sage'`` or
            ``'gin'``. Defaults to ``'mr'``.
        use_dilation (bool): dilated KNN, ``min(i // 4 + 1, ...)`` for block
            ``i``. Defaults to True.
        relative_pos (bool): relative-position bias in the KNN (the
            released isotropic models have none). Defaults to False.
        train_size (int): input size the position embedding is stored for;
            other sizes resize it. Defaults to 224.
        out_indices (int | Sequence[int]): blocks whose outputs (all stride
            16) are returned. Defaults to -1 (the last).
        drop_path_rate (float): stochastic depth of the last block (linear
            from 0). Defaults to 0.
        norm_cfg (dict): every norm layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): every activation. Defaults to
            ``dict(type='GELU')``.
        frozen_stages, norm_eval, with_cp, init_cfg: see
            :class:`VisionGNNBase` (a "stage" is a block here).
    """

    arch_settings = {
        **dict.fromkeys(['ti', 'tiny'], dict(depth=12, channels=192)),
        **dict.fromkeys(['s', 'small'], dict(depth=16, channels=320)),
        **dict.fromkeys(['b', 'base'], dict(depth=16, channels=640)),
    }
    min_input_size = 16

    def __init__(self, arch='tiny', in_channels=3, k=9,
                 graph_cfg=dict(type='mmvig.KNNGraph'), graph_conv_type='mr',
                 use_dilation=True, relative_pos=False, train_size=224,
                 out_indices=-1, drop_path_rate=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU'), frozen_stages=0, norm_eval=False,
                 with_cp=False, init_cfg=None):
        settings = resolve_arch(type(self), arch)
        owner = type(self).__name__
        depth = check_int('arch depth', settings['depth'], owner=owner)
        super().__init__(depth, train_size=train_size,
                         out_indices=out_indices, frozen_stages=frozen_stages,
                         norm_eval=norm_eval, with_cp=with_cp,
                         init_cfg=init_cfg)
        # The stem's first conv has channels // 8 outputs.
        channels = check_int('arch channels', settings['channels'], 8,
                             owner=owner)
        self._check_args(in_channels, k, drop_path_rate)
        self.depth, self.channels = depth, channels

        self.stem = ConvStem(
            in_channels, [channels // 8, channels // 4, channels // 2,
                          channels, channels], [2, 2, 2, 2, 1],
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        grid = self.train_size // self.stem.stride
        self.pos_embed = nn.Parameter(torch.zeros(1, channels, grid, grid))

        ks = [int(v) for v in torch.linspace(k, 2 * k, depth)]
        max_dilation = max(1, grid * grid // max(ks))
        drop_rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            ViGBlock(
                channels,
                graph_cfg=self._block_graph_cfg(
                    graph_cfg, ks[i],
                    min(i // 4 + 1, max_dilation) if use_dilation else 1),
                relative_pos=relative_pos, conv_type=graph_conv_type,
                drop_path=drop_rates[i], norm_cfg=norm_cfg, act_cfg=act_cfg)
            for i in range(depth))

        self.feature_info = [
            dict(index=i, channels=channels, stride=self.stem.stride)
            for i in self.out_indices
        ]
        self._finish_build()

    def _stage_names(self):
        return [[f'blocks.{i}'] for i in range(self.depth)]

    def _layer_groups(self):
        return [list(self.stem_names)] + self._stage_names()

    def _graph_layers(self):
        return [(block.grapher, self.stem.stride) for block in self.blocks]

    def forward(self, x):
        """``(B, C_in, H, W)`` -> tuple of ``(B, C, H/16, W/16)``, one per
        ``out_indices``."""
        self._check_input(x)
        x = self._embed(x)
        outs = []
        for i, block in enumerate(self.blocks[:self.out_indices[-1] + 1]):
            x = self._run(block, x)
            if i in self.out_indices:
                outs.append(self._output(x))
        return tuple(outs)
