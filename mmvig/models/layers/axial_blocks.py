"""Blocks of MobileViG, GreedyViG, MobileViGv2 and AdaptViG: inverted
residuals for local mixing, and Graphers over node-map graphs (their
builders :class:`~mmvig.ops.SVGAGraph`, :class:`~mmvig.ops.DAGAGraph`,
:class:`~mmvig.ops.MGCGraph`, :class:`~mmvig.ops.AdaptiveAxialGraph`,
:class:`~mmvig.ops.GlobalAttentionGraph`).

Every conv has a bias and a norm after it (as the released weights were
trained); ``(B, C, H, W)`` in and out.
"""
import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath

from mmvig.ops import NodeMapGraphBuilder, build_graph_builder
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


class ConditionalPosEncoding(nn.Conv2d):
    """Conditional position encoding ``x + dwconv_k(x)`` (CPE,
    arXiv:2102.10882), ``(B, C, H, W)`` in and out.

    :meth:`reparameterize` folds the identity into the kernel's centre: one
    depthwise conv, the same outputs (MobileViGv2's RepCPE, after FastViT;
    :meth:`VisionGNNBase.fuse` calls it). The weights keep a plain conv's
    names (``weight``, ``bias``).

    Args:
        channels (int): ``C``.
        kernel_size (int): odd kernel size. Defaults to 7.
    """

    def __init__(self, channels, kernel_size=7):
        super().__init__(channels, channels, kernel_size,
                         padding=kernel_size // 2, groups=channels)
        self.reparameterized = False

    def forward(self, x):
        out = super().forward(x)
        return out if self.reparameterized else x + out

    @torch.no_grad()
    def reparameterize(self):
        """Fold ``x +`` into the kernel (once; for inference)."""
        if not self.reparameterized:
            centre = self.kernel_size[0] // 2
            self.weight[:, 0, centre, centre] += 1
            self.reparameterized = True


class AxialGrapher(nn.Module):
    """[position encoding ->] fc1 -> graph max-relative -> update conv ->
    fc2 (no shortcut: the blocks add it).

    Args:
        channels (int): node channels ``C``.
        graph_cfg (dict): the graph builder over node maps
            (``dict(type='mmvig.SVGAGraph', stride=2)`` for MobileViG,
            ``'mmvig.DAGAGraph'`` for GreedyViG, ``'mmvig.MGCGraph'`` for
            MobileViGv2, ``'mmvig.AdaptiveAxialGraph'`` and
            ``'mmvig.GlobalAttentionGraph'`` for AdaptViG).
        hidden_channels (int): channels of the update conv's output
            (``2C`` in MobileViG, ``C`` in the others).
        pos_kernel (int): kernel of the :class:`ConditionalPosEncoding`
            applied first (7 but in MobileViG); 0 for none.
        norm_cfg (dict), act_cfg (dict): norm and activation layers.
    """

    def __init__(self, channels, graph_cfg, hidden_channels, pos_kernel=0,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        self.graph = build_graph_builder(graph_cfg, NodeMapGraphBuilder,
                                         'AxialGrapher')
        self.cpe = ConditionalPosEncoding(
            channels, pos_kernel) if pos_kernel else None
        self.fc1 = ConvNorm(channels, channels, norm_cfg=norm_cfg)
        # [x, aggregate] in channel blocks, as the released weights expect.
        self.graph_conv = ConvNorm(2 * channels, hidden_channels,
                                   norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.fc2 = ConvNorm(hidden_channels, channels, norm_cfg=norm_cfg)

    def forward(self, x):
        if self.cpe is not None:
            x = self.cpe(x)
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


class GraphMixerBlock(nn.Module):
    """The graph block of GreedyViG, MobileViGv2 and AdaptViG: a Grapher
    (with a 7x7 conditional position encoding, update conv to ``C``) and a
    1x1-conv FFN, each scaled per channel and residual.

    Args:
        channels (int): ``C``.
        graph_cfg (dict): the Grapher's graph builder (see
            :class:`AxialGrapher`).
        drop_path (float): stochastic depth rate of both residuals.
        layer_scale_init (float): initial per-channel scales.
        norm_cfg (dict), act_cfg (dict): norm and activation layers.
    """

    def __init__(self, channels, graph_cfg, drop_path=0.,
                 layer_scale_init=1e-5, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU')):
        super().__init__()
        self.grapher = AxialGrapher(
            channels, graph_cfg, channels, pos_kernel=7, norm_cfg=norm_cfg,
            act_cfg=act_cfg)
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


class DAGABlock(GraphMixerBlock):
    """GreedyViG's graph block: :class:`GraphMixerBlock` over the DAGA graph.

    Args:
        channels (int): ``C``. stride (int): DAGA stride ``K``.
        **kwargs: see :class:`GraphMixerBlock`.
    """

    def __init__(self, channels, stride=2, **kwargs):
        super().__init__(channels, dict(type='mmvig.DAGAGraph', stride=stride),
                         **kwargs)
