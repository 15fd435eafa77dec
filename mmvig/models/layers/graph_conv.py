"""Graph convolutions over a neighbour list (paper Table 6): aggregate
(:mod:`mmvig.ops.graph_conv`), then update with grouped 1x1 convs.

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

from mmvig.ops import gather_neighbours, max_relative
from mmvig.validation import check_divisible, check_int
from .conv_norm import ConvNorm

GRAPH_CONV_TYPES = ('mr', 'edge', 'sage', 'gin')


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
        owner = f'GraphConv({conv_type!r})'
        check_int('in_channels', in_channels, owner=owner)
        check_int('out_channels', out_channels, owner=owner)
        check_int('groups', groups, owner=owner)
        # The grouped update convolutions split their inputs and outputs
        # into `groups` heads.
        factor = 2 if conv_type in ('mr', 'edge') else 1
        heads = f'the {groups} heads of the grouped update convolution'
        check_divisible(f'{factor} * in_channels' if factor > 1 else
                        'in_channels', factor * in_channels, groups, heads,
                        owner=owner)
        check_divisible('out_channels', out_channels, groups, heads,
                        owner=owner)
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
        batch, channels, num_nodes = x.shape
        nodes = max_relative(x, y, index)
        # (B, 2C, N, 1) with channels-last strides: no copy for the conv.
        nodes = nodes.view(batch, num_nodes, 1, 2 * channels)
        return self.nn(nodes.permute(0, 3, 1, 2)).flatten(2)

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
