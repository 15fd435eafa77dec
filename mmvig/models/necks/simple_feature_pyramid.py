"""A simple feature pyramid for single-scale backbones (isotropic ViG).

`Exploring Plain Vision Transformer Backbones for Object Detection
<https://arxiv.org/abs/2203.16527>`_ (ViTDet, Li et al., ECCV 2022): the
last feature map alone, upsampled by transposed convolutions and downsampled
by max pooling, then projected to the detector's width, gives the multi-scale
features an FPN would.
"""
import math

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmengine.model import BaseModule

from mmvig.registry import MODELS


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Multi-scale features from one ``(B, C, H, W)`` map.

    For each ``scale`` in ``scale_factors`` (a power of two): ``log2(scale)``
    stride-2 transposed convolutions (halving the channels each, a norm and
    activation between them) to upsample, the input itself for 1, or
    ``k x k`` max pooling with ``k = 1 / scale`` to downsample. Each level is
    then a 1x1 and a 3x3 conv (with norms) to ``out_channels``. Levels
    beyond ``len(scale_factors)`` (up to ``num_outs``) are stride-2
    subsamples of the last, as FPN adds them for the RPN.

    Args:
        in_channels (int): channels of the backbone feature.
        out_channels (int): channels of every output.
        scale_factors (Sequence[float]): output resolution of each level
            relative to the input. Defaults to ``(4, 2, 1, 0.5)`` (strides
            4, 8, 16, 32 for a stride-16 backbone).
        num_outs (int): number of outputs. Defaults to 5.
        norm_cfg (dict): norm layers; batch-independent by default, since
            detectors train with few images per GPU. Defaults to
            ``dict(type='GN', num_groups=32)``.
        act_cfg (dict): activation between transposed convolutions.
            Defaults to ``dict(type='GELU')``.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self, in_channels, out_channels, scale_factors=(4, 2, 1, 0.5),
                 num_outs=5, norm_cfg=dict(type='GN', num_groups=32),
                 act_cfg=dict(type='GELU'), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_outs < len(scale_factors):
            raise ValueError(
                f'num_outs ({num_outs}) must be at least the number of '
                f'scale_factors ({len(scale_factors)})')
        self.in_channels = in_channels
        self.scale_factors = list(scale_factors)
        self.num_outs = num_outs
        self.resamplers = nn.ModuleList()
        self.projections = nn.ModuleList()
        for scale in self.scale_factors:
            octaves = math.log2(scale)
            if scale <= 0 or octaves != int(octaves):
                raise ValueError(
                    f'scale_factors must be powers of two, got {scale}')
            resample, channels = self._resampler(
                in_channels, int(octaves), norm_cfg, act_cfg)
            self.resamplers.append(resample)
            self.projections.append(
                nn.Sequential(
                    ConvModule(channels, out_channels, 1, norm_cfg=norm_cfg,
                               act_cfg=None),
                    ConvModule(out_channels, out_channels, 3, padding=1,
                               norm_cfg=norm_cfg, act_cfg=None)))

    @staticmethod
    def _resampler(channels, octaves, norm_cfg, act_cfg):
        """Layers that rescale by ``2**octaves``, and their out channels."""
        if octaves < 0:
            size = 2**-octaves
            # ceil_mode keeps the border of sizes that are not multiples.
            return nn.MaxPool2d(size, size, ceil_mode=True), channels
        layers = []
        for i in range(octaves):
            if i > 0:
                layers += [build_norm_layer(norm_cfg, channels)[1],
                           build_activation_layer(act_cfg)]
            layers.append(
                nn.ConvTranspose2d(channels, channels // 2, 2, stride=2))
            channels //= 2
        return nn.Sequential(*layers), channels

    def forward(self, inputs):
        """A sequence holding one ``(B, C, H, W)`` map -> tuple of
        ``num_outs`` maps ``(B, out_channels, H * s, W * s)``."""
        if len(inputs) != 1:
            raise ValueError(
                f'SimpleFeaturePyramid takes one feature map (the backbone '
                f'with a single out_indices), got {len(inputs)}')
        x = inputs[0]
        outs = [
            project(resample(x))
            for resample, project in zip(self.resamplers, self.projections)
        ]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
