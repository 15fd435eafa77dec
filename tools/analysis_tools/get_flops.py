"""FLOPs and parameters of the model of a config (mmpretrain, mmdet or mmseg).

    python tools/analysis_tools/get_flops.py CONFIG [--shape 224 [224]]

FLOPs are multiply-adds at the given input size, counted the way the paper
counts them (:func:`mmvig.analysis.count_flops`), with the KNN graph
construction shown separately: of ``extract_feat`` (backbone and neck, as
mmpretrain's get_flops counts) for classifiers and detectors, of the whole
inference network (backbone, neck and decode head, as mmseg's get_flops
counts) for segmentors. Parameters are the whole model's trainable ones
(with a segmentor's auxiliary head, used in training only).
"""
import argparse

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

import mmvig  # noqa: F401
from mmvig.analysis import count_flops


class CountedForward(nn.Module):
    """What is counted, as a module's forward: ``model.extract_feat``, or
    the whole network (``mode='tensor'``) when ``whole``."""

    def __init__(self, model, whole):
        super().__init__()
        self.model = model
        self.whole = whole

    def forward(self, inputs):
        if self.whole:
            return self.model(inputs, mode='tensor')
        return self.model.extract_feat(inputs)


def parse_args():
    parser = argparse.ArgumentParser(description='Get model FLOPs and params')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape', type=int, nargs='+', default=[224, 224],
        help='input size: H W, or one value for both (default: 224 224)')
    args = parser.parse_args()
    if len(args.shape) not in (1, 2) or min(args.shape) < 1:
        parser.error(f'--shape takes one or two positive sizes, got '
                     f'{args.shape}')
    return args


def main():
    args = parse_args()
    height, width = args.shape * 2 if len(args.shape) == 1 else args.shape
    cfg = Config.fromfile(args.config)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    whole = cfg.get('default_scope') == 'mmseg'
    flops = count_flops(CountedForward(model, whole), (1, 3, height, width))
    counted = 'backbone + neck + decode head' if whole else 'backbone + neck'
    line = '=' * 40
    print(f'{line}\nconfig: {args.config}\ninput shape: (3, {height}, '
          f'{width})\nFLOPs ({counted}): {flops["total"] / 1e9:.3f} G'
          f'\n  of it KNN graph: {flops["knn"] / 1e9:.3f} G\nparams '
          f'(whole model, trainable): {params / 1e6:.3f} M\n{line}')


if __name__ == '__main__':
    main()
