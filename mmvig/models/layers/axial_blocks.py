"""Blocks of MobileViG and GreedyViG: inverted residuals for local mixing,
and Graphers over axial graphs (their builders :class:`~mmvig.ops.SVGAGraph`
and :class:`~mmvig.ops.DAGAGraph`).

Every conv has a bias and a norm after it (as the released weights were
trained); ``(B, C, H, W)`` in and out.
"""
import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath

from mmvig.ops import AxialGraphBuilder, build_graph_builder
from .blocks import FFN
from .conv_norm import ConvNorm


def _drop_path(rate):
    return DropPath(rate) if rate > 0 else nn.Identity()


def _scale(x, layer_scale):
    return layer_scale.view(1, -1, 1, 1) * x


class InvertedResidual(nn.Module):
    """MobileNetV2-style block: 1x1 expand -> 3x3 depthwise -> 1x1 project,
    scaled per channel, plus shortcut.

    Args:
        channels (int): input and output channels ``C``.
        ratio (int): expansion (hidden ``ratio * C``). Defaults to 4.
        drop_path (float): stochastic depth rate. Defaults to 0.
        layer_scale_init (float): initial per-channel scale. Defaults to
            1e-5.
        norm_cfg (dict), act_cfg (dict): norm and activation layers.
    """

    def __init__(self, channels, ratio=4, drop_path=0., layer_scale_init=1e-5,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        hidden = ratio * channels
        self.fc1 = ConvNorm(channels, hidden, norm_cfg=norm_cfg,
                            act_cfg=act_cfg)
        self.dw = ConvNorm(hidden, hidden, 3, groups=hidden, norm_cfg=norm_cfg,
                           act_cfg=act_cfg)
        self.fc2 = ConvNorm(hidden, channels, norm_cfg=norm_cfg)
        self.layer_scale = nn.Parameter(torch.full((channels, ),
                                                   layer_scale_init))
        self.drop_path = _drop_path(drop_path)

    def forward(self, x):
        residual = self.fc2(self.dw(self.fc1(x)))
        return x + self.drop_path(_scale(residual, self.layer_scale))


class AxialGrapher(nn.Module):
    """[position conv ->] fc1 -> axial graph max-relative -> update conv ->
    fc2 (no shortcut: the blocks add it).

    Args:
        channels (int): node channels ``C``.
        graph_cfg (dict): the axial graph builder
            (``dict(type='mmvig.SVGAGraph', stride=2)`` for MobileViG,
            ``'mmvig.DAGAGraph'`` for GreedyViG).
        hidden_channels (int): channels of the update conv's output
            (``2C`` in MobileViG, ``C`` in GreedyViG).
        pos_kernel (int): kernel of the depthwise conditional position
            encoding added first (GreedyViG: 7); 0 for none.
        norm_cfg (dict), act_cfg (dict): norm and activation layers.
    """

    def __init__(self, channels, graph_cfg, hidden_channels, pos_kernel=0,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.graph = build_graph_builder(graph_cfg, AxialGraphBuilder,
                                         'AxialGrapher')
        self.cpe = nn.Conv2d(
            channels, channels, pos_kernel, padding=pos_kernel // 2,
            groups=channels) if pos_kernel else None
        self.fc1 = ConvNorm(channels, channels, norm_cfg=norm_cfg)
        # [x, aggregate] in channel blocks, as the released weights expect.
        self.graph_conv = ConvNorm(2 * channels, hidden_channels,
                                   norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.fc2 = ConvNorm(hidden_channels, channels, norm_cfg=norm_cfg)

    def forward(self, x):
        if self.cpe is not None:
            x = x + self.cpe(x)
        x = self.fc1(x)
        x = torch.cat([x, self.graph(x).max_relative(x)], dim=1)
        return self.fc2(self.graph_conv(x))


class SVGABlock(nn.Module):
    """MobileViG's graph block: Grapher over the SVGA graph (update conv to
    ``2C``) and FFN, each residual.

    Args:
        channels (int): ``C``. stride (int): SVGA stride ``K``.
        drop_path (float): stochastic depth rate of both residuals.
        norm_cfg (dict), act_cfg (dict): norm and activation layers.
    """

    def __init__(self, channels, stride=2, drop_path=0.,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.grapher = AxialGrapher(
            channels, dict(type='mmvig.SVGAGraph', stride=stride),
            2 * channels, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.ffn = FFN(channels, drop_path=drop_path, norm_cfg=norm_cfg,
                       act_cfg=act_cfg)
        self.drop_path = _drop_path(drop_path)

    def forward(self, x):
        return self.ffn(x + self.drop_path(self.grapher(x)))


class DAGABlock(nn.Module):
    """GreedyViG's graph block: Grapher over the DAGA graph (with a 7x7
    conditional position encoding) and a 1x1-conv FFN, each scaled per
    channel and residual.

    Args:
        channels (int): ``C``. stride (int): DAGA stride ``K``.
        drop_path (float): stochastic depth rate of both residuals.
        layer_scale_init (float): initial per-channel scales.
        norm_cfg (dict), act_cfg (dict): norm and activation layers.
    """

    def __init__(self, channels, stride=2, drop_path=0., layer_scale_init=1e-5,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.grapher = AxialGrapher(
            channels, dict(type='mmvig.DAGAGraph', stride=stride), channels,
            pos_kernel=7, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.ffn = nn.Sequential(
            ConvNorm(channels, 4 * channels, norm_cfg=norm_cfg,
                     act_cfg=act_cfg),
            ConvNorm(4 * channels, channels, norm_cfg=norm_cfg))
        self.layer_scale1 = nn.Parameter(torch.full((channels, ),
                                                    layer_scale_init))
        self.layer_scale2 = nn.Parameter(torch.full((channels, ),
                                                    layer_scale_init))
        self.drop_path = _drop_path(drop_path)

    def forward(self, x):
        x = x + self.drop_path(_scale(self.grapher(x), self.layer_scale1))
        return x + self.drop_path(_scale(self.ffn(x), self.layer_scale2))
