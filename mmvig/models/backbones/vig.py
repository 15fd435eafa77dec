"""Isotropic Vision GNN.

`Vision GNN: An Image is Worth Graph of Nodes <https://arxiv.org/abs/2206.00272>`_
(Han et al., NeurIPS 2022), Table 1: a stride-16 conv stem, then ``depth``
ViG blocks on a fixed number of nodes; ``k`` grows linearly from 9 to 18 and
the KNN dilation with depth.
"""
import torch
import torch.nn as nn

from mmvig.ops import DEFAULT_CHUNK_BYTES
from mmvig.registry import MODELS
from mmvig.validation import check_int
from ..layers import ConvStem, ViGBlock
from .base import VisionGNNBase, resolve_arch


@MODELS.register_module()
class ViG(VisionGNNBase):
    """Isotropic Vision GNN backbone.

    Args:
        arch (str | dict): ``'tiny'``, ``'small'``, ``'base'`` or a dict with
            ``depth`` and ``channels``.
        in_channels (int): image channels. Defaults to 3.
        k (int): neighbours of the first block; the last has ``2 * k``.
            Defaults to 9.
        graph_conv_type (str): ``'mr'``, ``'edge'``, ``'sage'`` or
            ``'gin'``. Defaults to ``'mr'``.
        use_dilation (bool): dilated KNN, ``min(i // 4 + 1, ...)`` for block
            ``i``. Defaults to True.
        use_stochastic (bool): stochastic dilated KNN during training.
            Defaults to False (as in all released models).
        epsilon (float): probability of the stochastic variant. Defaults
            to 0.2.
        relative_pos (bool): relative-position bias in the KNN (the
            released isotropic models have none). Defaults to False.
        train_size (int): input size the position embedding is stored for;
            other sizes resize it. Defaults to 224.
        out_indices (int | Sequence[int]): blocks whose outputs (all stride
            16) are returned. Defaults to -1 (the last).
        drop_path_rate (float): stochastic depth of the last block (linear
            from 0). Defaults to 0.
        knn_chunk_bytes (int, optional): memory bound of a KNN distance
            block; ``None`` for the dense formulation. Defaults to 64 MiB.
        norm_cfg (dict): every norm layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): every activation. Defaults to
            ``dict(type='GELU')``.
        frozen_stages, norm_eval, with_cp, init_cfg, pretrained: see
            :class:`VisionGNNBase` (a "stage" is a block here).
    """

    arch_settings = {
        'tiny': dict(depth=12, channels=192),
        'small': dict(depth=16, channels=320),
        'base': dict(depth=16, channels=640),
    }
    min_input_size = 16

    def __init__(self, arch='tiny', in_channels=3, k=9, graph_conv_type='mr',
                 use_dilation=True, use_stochastic=False, epsilon=0.2,
                 relative_pos=False, train_size=224, out_indices=-1,
                 drop_path_rate=0., knn_chunk_bytes=DEFAULT_CHUNK_BYTES,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU'),
                 frozen_stages=0, norm_eval=False, with_cp=False,
                 init_cfg=None, pretrained=None):
        settings = resolve_arch(type(self), arch)
        owner = type(self).__name__
        self.depth = check_int('arch depth', settings['depth'], owner=owner)
        # The stem's first conv has channels // 8 outputs.
        channels = check_int('arch channels', settings['channels'], 8,
                             owner=owner)
        self.num_outputs = self.depth
        super().__init__(out_indices, frozen_stages, norm_eval, with_cp,
                         init_cfg, pretrained)
        self._check_args(in_channels, k, epsilon, drop_path_rate, train_size,
                         knn_chunk_bytes)
        self.channels = channels

        self.stem = ConvStem(
            in_channels, [channels // 8, channels // 4, channels // 2,
                          channels, channels], [2, 2, 2, 2, 1],
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        grid = train_size // self.stem.stride
        self.pos_embed = nn.Parameter(torch.zeros(1, channels, grid, grid))

        ks = [int(v) for v in torch.linspace(k, 2 * k, self.depth)]
        max_dilation = max(1, grid * grid // max(ks))
        drop_rates = torch.linspace(0, drop_path_rate, self.depth).tolist()
        self.blocks = nn.ModuleList(
            ViGBlock(
                channels, k=ks[i],
                dilation=min(i // 4 + 1, max_dilation) if use_dilation else 1,
                relative_pos=relative_pos, conv_type=graph_conv_type,
                use_stochastic=use_stochastic, epsilon=epsilon,
                drop_path=drop_rates[i], knn_chunk_bytes=knn_chunk_bytes,
                norm_cfg=norm_cfg, act_cfg=act_cfg)
            for i in range(self.depth))

        self.feature_info = [
            dict(index=i, channels=channels, stride=self.stem.stride)
            for i in self.out_indices
        ]
        self._freeze_stages()

    def _layer_groups(self):
        return [['stem', 'pos_embed']] + [[f'blocks.{i}']
                                          for i in range(self.depth)]

    def _frozen_names(self):
        return ['stem', 'pos_embed'] + [
            f'blocks.{i}' for i in range(self.frozen_stages)]

    def _graph_layers(self):
        return [(block.grapher, self.stem.stride) for block in self.blocks]

    def forward(self, x):
        """``(B, C_in, H, W)`` -> tuple of ``(B, C, H/16, W/16)``, one per
        ``out_indices``."""
        self._check_input(x)
        x = self._embed(x)
        outs = []
        for i, block in enumerate(self.blocks):
            x = self._run(block, x)
            if i in self.out_indices:
                outs.append(self._output(x))
        return tuple(outs)
