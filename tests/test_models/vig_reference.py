"""Helpers to compare mmvig with mmpretrain's ViG port (the numerical
reference) and to write the authors' key layout."""
import torch

ARCHS = [('ViG', 'Vig', a) for a in ('tiny', 'small', 'base')] + \
    [('PyramidViG', 'PyramidVig', a)
     for a in ('tiny', 'small', 'medium', 'base')]


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
    of the authors' released files (docs/checkpoints.md)."""
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
