"""Graph convolutions over a KNN graph (paper Table 6): aggregate, then update.

All four read query nodes ``x`` ``(B, C, N)``, key nodes ``y`` ``(B, C, M)``
and neighbour indices ``(B, N, k)`` into the keys, and return ``(B, C', N)``.

- ``mr`` (Max-Relative, DeepGCNs; ViG's default): ``[x_i, max_j y_j - x_i]``,
  channel-interleaved, then a grouped 1x1 conv ("multi-head update").
- ``edge`` (EdgeConv, DGCNN): ``max_j h([x_i, y_j - x_i])``.
- ``sage`` (GraphSAGE): ``h2([x_i, max_j h1(y_j)])``.
- ``gin`` (GIN): ``h((1 + eps) x_i + sum_j y_j)``.
"""
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer

GRAPH_CONV_TYPES = ('mr', 'edge', 'sage', 'gin')


def gather_neighbours(y, index):
    """Neighbour features ``(B, N, k, C)`` of keys ``y`` ``(B, C, M)``."""
    batch, channels, num_keys = y.shape
    offset = torch.arange(batch, device=y.device).view(-1, 1, 1) * num_keys
    rows = y.transpose(1, 2).reshape(batch * num_keys, channels)
    return rows[index + offset]


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


class GraphConv(nn.Module):
    """Aggregate neighbours and update nodes with one of
    :data:`GRAPH_CONV_TYPES`.

    Args:
        in_channels (int): node channels ``C``.
        out_channels (int): output channels (ViG uses ``2C``).
        conv_type (str): ``'mr'``, ``'edge'``, ``'sage'`` or ``'gin'``.
        groups (int): groups of the update convolutions (heads). Defaults
            to 4.
        norm_cfg (dict): norm layer after each update convolution.
        act_cfg (dict): activation after each update convolution.
    """

    def __init__(self, in_channels, out_channels, conv_type='mr', groups=4,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')):
        super().__init__()
        if conv_type not in GRAPH_CONV_TYPES:
            raise ValueError(f'unknown graph conv type {conv_type!r}; choose '
                             f'from {GRAPH_CONV_TYPES}')
        self.conv_type = conv_type

        def update(cin, cout):
            return ConvNorm(cin, cout, groups=groups, norm_cfg=norm_cfg,
                            act_cfg=act_cfg)

        if conv_type == 'sage':
            self.nn1 = update(in_channels, in_channels)
            self.nn2 = update(2 * in_channels, out_channels)
        elif conv_type == 'gin':
            self.nn = update(in_channels, out_channels)
            self.eps = nn.Parameter(torch.zeros(1))
        else:
            self.nn = update(2 * in_channels, out_channels)

    def forward(self, x, y, index):
        """``x`` ``(B, C, N)``, ``y`` ``(B, C, M)``, ``index`` ``(B, N, k)``
        -> ``(B, C', N)``."""
        return getattr(self, f'_{self.conv_type}')(x, y, index)

    def _mr(self, x, y, index):
        # max_j (y_j - x_i) == max_j y_j - x_i: x_i is never gathered.
        relative = gather_neighbours(y, index).amax(dim=2).transpose(1, 2) - x
        batch, channels, num_nodes = x.shape
        # Interleave channel-wise, [x_0, r_0, x_1, r_1, ...], as trained.
        nodes = torch.stack([x, relative], dim=2)
        nodes = nodes.view(batch, 2 * channels, num_nodes, 1)
        return self.nn(nodes).flatten(2)

    def _edge(self, x, y, index):
        neighbours = gather_neighbours(y, index).permute(0, 3, 1, 2)
        centres = x.unsqueeze(-1).expand_as(neighbours)
        edges = torch.cat([centres, neighbours - centres], dim=1)
        return self.nn(edges).amax(dim=-1)

    def _sage(self, x, y, index):
        neighbours = gather_neighbours(y, index).permute(0, 3, 1, 2)
        pooled = self.nn1(neighbours).amax(dim=-1)
        return self.nn2(torch.cat([x, pooled], dim=1).unsqueeze(-1)).flatten(2)

    def _gin(self, x, y, index):
        summed = gather_neighbours(y, index).sum(dim=2).transpose(1, 2)
        nodes = (1 + self.eps) * x + summed
        return self.nn(nodes.unsqueeze(-1)).flatten(2)
