"""Helpers to compare mmvig with mmpretrain's ViG port (the numerical
reference) and to write the authors' key layout."""
import torch
import torch.nn as nn
from mmpretrain.models.backbones import vig as reference

from mmvig.models.layers import blocks as mmvig_blocks
from ..helpers import rounding_tol

ARCHS = [('ViG', 'Vig', a) for a in ('tiny', 'small', 'base')] + \
    [('PyramidViG', 'PyramidVig', a)
     for a in ('tiny', 'small', 'medium', 'base')]


def randomize_norms(model, seed=0):
    """Non-trivial BN statistics and affine parameters."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
    for name, p in model.named_parameters():
        if name.endswith('pos_embed'):
            p.data.normal_(0, 0.1, generator=gen)


def random_authors_head(in_channels, hidden=1024, num_classes=1000):
    """A random head state dict in mmpretrain's naming (fc1, bn, fc2), with
    BN statistics a loader could not mistake for defaults."""
    return {'fc1.weight': torch.randn(hidden, in_channels),
            'fc1.bias': torch.randn(hidden),
            'bn.weight': torch.rand(hidden), 'bn.bias': torch.randn(hidden),
            'bn.running_mean': torch.randn(hidden),
            'bn.running_var': torch.rand(hidden) + 0.5,
            'fc2.weight': torch.randn(num_classes, hidden),
            'fc2.bias': torch.randn(num_classes)}


def authors_layout(backbone_sd, depths=None, head_sd=None):
    """Re-key an mmpretrain backbone (and head) state dict into the layout
    of the authors' released files (VIG_FACTS.md)."""
    out = {}
    for key, value in backbone_sd.items():
        parts = key.split('.')
        if parts[0] == 'stem':
            out['stem.convs.' + '.'.join(parts[1:])] = value
        elif parts[0] == 'blocks':
            out['backbone.' + '.'.join(parts[1:])] = value
        elif parts[0] == 'stages':
            stage, j = int(parts[1]), int(parts[2])
            flat = sum(depths[:stage]) + max(stage - 1, 0) + j
            rest = '.'.join(parts[3:])
            if stage > 0 and j == 0:
                rest = 'conv.' + rest
            out[f'backbone.{flat}.{rest}'] = value
        else:
            out[key] = value
    for key, value in (head_sd or {}).items():
        layer, param = key.split('.')
        index = {'fc1': 0, 'bn': 1, 'fc2': 4}[layer]
        if layer != 'bn' and param == 'weight':
            value = value[:, :, None, None]
        out[f'prediction.{index}.{param}'] = value
    return out


class TieAlignedGraphs:
    """Makes mmvig follow the reference's tie-breaks, and nothing else.

    Run the reference first: each of its KNN calls is recorded with its
    distances. During mmvig's forward, each KNN result is compared with the
    reference's call at the same position; any node whose neighbours differ
    must be a tie by the reference's own distances (else the test fails),
    and the reference's choice is then used so that both continue on the
    same graph. ``flips`` counts the nodes where that happened.

    A tie is a difference of distances within the rounding of both
    computations: a ``C``-term dot product plus the squared norms (terms of
    absolute sum at most 4 for unit vectors) and the relative bias, itself a
    ``C``-term product resized by 4-tap bicubic filters.
    """

    def __init__(self, monkeypatch):
        self.reference, self.calls, self.flips = [], 0, 0
        original_ref = reference.xy_dense_knn_matrix
        original_ours = mmvig_blocks.knn_graph

        def ref_knn(x, y, k=16, relative_pos=None):
            out = original_ref(x, y, k, relative_pos)
            xs, ys = x.transpose(2, 1).squeeze(-1), y.transpose(2, 1).squeeze(-1)
            dist = reference.xy_pairwise_distance(xs, ys)
            bias = 0.
            if relative_pos is not None:
                dist = dist + relative_pos
                bias = relative_pos.abs().max().item()
            tol = rounding_tol(2 * x.shape[1] + 10, 4 + 2 * bias)
            self.reference.append((dist, out[0], tol))
            return out

        def our_knn(*args, **kwargs):
            ours = original_ours(*args, **kwargs)
            dist, ranked, tie_tol = self.reference[self.calls]
            chosen = ranked[..., ::ranked.shape[-1] // ours.shape[-1]]
            differ = (chosen.sort(-1).values !=
                      ours.sort(-1).values).any(-1).nonzero().tolist()
            for b, node in differ:
                theirs = dist[b, node, chosen[b, node]].sort().values
                mine = dist[b, node, ours[b, node]].sort().values
                assert torch.allclose(theirs, mine, atol=tie_tol, rtol=0), (
                    f'KNN call {self.calls}, sample {b}, node {node}: the '
                    f'neighbours differ and it is not a tie: {theirs} vs '
                    f'{mine}')
            self.calls += 1
            self.flips += len(differ)
            return chosen

        monkeypatch.setattr(reference, 'xy_dense_knn_matrix', ref_knn)
        monkeypatch.setattr(mmvig_blocks, 'knn_graph', our_knn)
