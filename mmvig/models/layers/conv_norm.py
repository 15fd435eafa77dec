"""Convolution, norm and optional activation: the layer every Vision GNN
is made of."""
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer


class ConvNorm(nn.Sequential):
    """Convolution, norm layer and an optional activation.

    Operates on ``(B, C, H, W)``; graph nodes use ``H = N`` and ``W = 1``
    (or ``W = k`` for per-edge features).
    """

    def __init__(self, in_channels, out_channels, kernel_size=1, stride=1,
                 groups=1, norm_cfg=dict(type='BN'), act_cfg=None):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride,
            padding=kernel_size // 2, groups=groups)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]
        if act_cfg is not None:
            self.act = build_activation_layer(act_cfg)
