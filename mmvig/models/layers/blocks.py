"""Building blocks of ViG and Pyramid ViG (paper Sec. 3.1).

A ViG block is a Grapher (graph mixing between nodes) followed by an FFN
(per-node transformation), both residual, with a norm after every 1x1 conv.
The Grapher owns its graph builder (``self.graph``), chosen by
``graph_cfg``.
Feature maps stay ``(B, C, H, W)`` throughout; the ``H x W`` grid is the node
set, flattened row-major when the graph is built.
"""
import functools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath

from mmvig.ops import (KNNGraph, build_graph_builder, capturing_graph,
                       relative_pos_factors)
from mmvig.validation import check_divisible, check_int, check_range
from .conv_norm import ConvNorm
from .graph_conv import GraphConv


class Grapher(nn.Module):
    """fc1 -> graph (its builder) + graph conv -> fc2 -> drop path, plus
    shortcut.

    Args:
        channels (int): node channels ``C``.
        graph_cfg (dict): the graph builder, a neighbour-list builder
            (:class:`~mmvig.ops.KNNGraph` or a subclass) with its ``k`` and
            ``dilation``. Defaults to ``dict(type='mmvig.KNNGraph')``.
        reduce_ratio (int): keys are the nodes average-pooled by this ratio
            (partial windows at the border average the nodes they cover).
        relative_pos (bool): add the relative-position bias to the distance.
        conv_type (str): graph convolution, see :class:`GraphConv`.
        drop_path (float): stochastic depth rate.
        norm_cfg (dict): norm layers. act_cfg (dict): activations.
    """

    def __init__(self, channels, graph_cfg=dict(type='mmvig.KNNGraph'),
                 reduce_ratio=1, relative_pos=False, conv_type='mr',
                 drop_path=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU')):
        super().__init__()
        self.channels = check_int('channels', channels, owner='Grapher')
        if relative_pos:
            check_divisible('channels', channels, 4,
                            'the sin-cos relative-position embedding',
                            owner='Grapher')
        self.reduce_ratio = check_int('reduce_ratio', reduce_ratio,
                                      owner='Grapher')
        self.relative_pos = relative_pos
        check_range('drop_path', drop_path, 0, 1, high_open=True,
                    owner='Grapher')
        # A neighbour list: axial graphs belong to AxialGrapher.
        self.graph = build_graph_builder(graph_cfg, KNNGraph, 'Grapher')
        self.fc1 = ConvNorm(channels, channels, norm_cfg=norm_cfg)
        self.graph_conv = GraphConv(
            channels, 2 * channels, conv_type, norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.fc2 = ConvNorm(2 * channels, channels, norm_cfg=norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self._pos_cache = (None, None)

    def _pos_factors(self, height, width, num_keys, like):
        """Relative-position factors for this grid, kept for the last grid
        (formed in the graph when one is captured, for any grid); float32
        at least, the precision distances are ranked in."""
        dtype = torch.promote_types(like.dtype, torch.float32)
        factors = functools.partial(
            relative_pos_factors, height, width, self.channels, num_keys,
            dtype=dtype, device=like.device)
        if capturing_graph():
            return factors()
        key = (height, width, num_keys, like.device, dtype)
        if self._pos_cache[0] != key:
            self._pos_cache = (key, factors())
        return self._pos_cache[1]

    def neighbours(self, x):
        """Keys ``(B, C, M)`` and neighbour indices ``(B, N, k)`` of the
        nodes of ``x`` ``(B, C, H, W)`` (the output of ``fc1``)."""
        height, width = x.shape[-2:]
        keys = x
        if self.reduce_ratio > 1:
            # Edge windows average their nodes only. With no padding,
            # count_include_pad changes nothing in PyTorch, but older ONNX
            # Runtimes (1.20; 1.32 does not) count a ceil-mode overhang as
            # padding unless it is off.
            keys = F.avg_pool2d(x, self.reduce_ratio, ceil_mode=True,
                                count_include_pad=False)
        keys = keys.flatten(2)
        pos = None
        if self.relative_pos:
            pos = self._pos_factors(height, width, keys.shape[-1], x)
        index = self.graph(
            x.flatten(2), None if self.reduce_ratio == 1 else keys, pos)
        return keys, index

    def forward(self, x):
        batch, _, height, width = x.shape
        shortcut = x
        x = self.fc1(x)
        keys, index = self.neighbours(x)
        x = self.graph_conv(x.flatten(2), keys, index)
        x = self.fc2(x.view(batch, x.shape[1], height, width))
        return shortcut + self.drop_path(x)


class FFN(nn.Module):
    """Two 1x1 convs with a norm after each (hidden ``ratio * C``), plus
    shortcut."""

    def __init__(self, channels, ratio=4, drop_path=0.,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.fc1 = ConvNorm(channels, ratio * channels, norm_cfg=norm_cfg,
                            act_cfg=act_cfg)
        self.fc2 = ConvNorm(ratio * channels, channels, norm_cfg=norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x):
        return x + self.drop_path(self.fc2(self.fc1(x)))


class ViGBlock(nn.Module):
    """Grapher then FFN, each residual. Keyword arguments go to
    :class:`Grapher`."""

    def __init__(self, channels, drop_path=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU'), **grapher_kwargs):
        super().__init__()
        self.grapher = Grapher(
            channels, drop_path=drop_path, norm_cfg=norm_cfg, act_cfg=act_cfg,
            **grapher_kwargs)
        self.ffn = FFN(channels, drop_path=drop_path, norm_cfg=norm_cfg,
                       act_cfg=act_cfg)

    def forward(self, x):
        return self.ffn(self.grapher(x))


class ConvStem(nn.Sequential):
    """3x3 convs with the given widths and strides, a norm after each and an
    activation after all but the last."""

    def __init__(self, in_channels, widths, strides, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU')):
        super().__init__()
        for i, (width, stride) in enumerate(zip(widths, strides)):
            last = i == len(widths) - 1
            self.append(
                ConvNorm(in_channels, width, 3, stride, norm_cfg=norm_cfg,
                         act_cfg=None if last else act_cfg))
            in_channels = width
        self.stride = math.prod(strides)
