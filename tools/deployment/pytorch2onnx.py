"""Export an mmvig model to ONNX: a backbone, an mmpretrain classifier or an
mmdet detector, from its config and (optionally) a checkpoint.

    python tools/deployment/pytorch2onnx.py CONFIG [CHECKPOINT_OR_URL] \
        --out FILE [--shape H W] [--batch N] [--dynamic] [--opset N] \
        [--backbone] [--check [H W ...]]

What the graph computes (the input ``images`` is ``(B, 3, H, W)``, already
normalised with the config's ``data_preprocessor`` mean and std):

- classifier: the logits ``(B, num_classes)`` (no softmax);
- ``--backbone``: the backbone's feature maps ``feat_0 ...``;
- single-stage detector (RetinaNet): the head's tensors per FPN level,
  ``cls_score_0 ...`` then ``bbox_pred_0 ...``; anchors, decoding and NMS are
  left to the caller (``model.bbox_head.predict_by_feat``);
- two-stage detector (Mask R-CNN): the neck's feature maps ``feat_0 ...``
  and the RPN head's ``cls_score_* / bbox_pred_*``; proposals, the RoI heads
  and NMS are left to the caller (``rpn_head.predict_by_feat`` then
  ``roi_head.predict`` on the features).

``--dynamic`` makes batch, height and width graph inputs: one file serves any
batch and any size at or above the backbone's minimum. Without it the graph
has the one shape ``--batch x 3 x H x W`` (for runtimes that need it, e.g.
TensorRT). The KNN's TopK has a constant ``k`` in both.

``--check`` runs the file in ONNX Runtime (CPU) and compares it with PyTorch
at the export shape, or at each ``H W`` given, for batch 1 and ``--batch``:
every output within 1e-4 of its scale, where a node whose neighbours differ
must be a float32 tie by PyTorch's distances (see :mod:`mmvig.deployment`).
"""
import argparse
import os.path as osp
import sys
import time

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

import mmvig  # noqa: F401  (modules, safe checkpoint loading)
from mmvig.checkpoint import (CheckpointError, load_file,
                              load_state_dict_strict, state_dict_of)
from mmvig.deployment import OnnxRuntimeModel, compare_outputs, export_onnx

#: Relative tolerance of ``--check`` (of each output's largest value).
CHECK_TOLERANCE = 1e-4


class Logits(nn.Module):
    """An mmpretrain classifier's logits."""

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, images):
        return self.classifier(images, mode='tensor')


class DetectorTensors(nn.Module):
    """A detector up to its dense head: the head's tensors, and for a
    two-stage detector the neck's features before them (the RoI heads'
    input)."""

    def __init__(self, detector):
        super().__init__()
        self.detector = detector

    def forward(self, images):
        feats = self.detector.extract_feat(images)
        if getattr(self.detector, 'with_rpn', False):
            return feats, self.detector.rpn_head(feats)
        return self.detector.bbox_head(feats)


def build_model(config, checkpoint=None, backbone_only=False):
    """The model of ``config`` (weights from ``checkpoint``, strictly) as an
    exportable module, and its output names."""
    cfg = Config.fromfile(config)
    scope = cfg.get('default_scope', 'mmpretrain')
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_state_dict_strict(model, state_dict_of(load_file(checkpoint)),
                               source=checkpoint)
    model.eval()
    if backbone_only:
        names = [f'feat_{i}' for i in range(len(model.backbone.out_indices))]
        return model.backbone, names
    if scope == 'mmpretrain':
        return Logits(model), ['logits']
    if scope != 'mmdet':
        raise ValueError(f'{config}: cannot export a model of scope '
                         f'{scope!r} (mmpretrain and mmdet are supported); '
                         f'--backbone exports the backbone of any')
    two_stage = getattr(model, 'with_rpn', False)
    head = model.rpn_head if two_stage else model.bbox_head
    levels = len(head.prior_generator.strides)
    names = [f'{kind}_{i}' for kind in ('cls_score', 'bbox_pred')
             for i in range(levels)]
    if two_stage:
        names = [f'feat_{i}' for i in range(levels)] + names
    return DetectorTensors(model), names


def min_input_size(model):
    """The smallest side the backbone accepts."""
    backbones = [m for m in model.modules()
                 if hasattr(m, 'min_input_size')]
    return backbones[0].min_input_size if backbones else 1


def check(model, path, sizes, batches, seed=0):
    """ONNX Runtime against PyTorch: one line per size and batch.

    Returns:
        float: the largest relative error seen.
    """
    runtime = OnnxRuntimeModel(path, with_graphs=True)
    worst = 0.
    generator = torch.Generator().manual_seed(seed)
    for height, width in sizes:
        for batch in batches:
            images = torch.randn(batch, 3, height, width, generator=generator)
            outputs, graphs = runtime(images)
            errors, flips = compare_outputs(model, images, outputs, graphs)
            worst = max(worst, *errors)
            print(f'{height}x{width}, batch {batch}: max |ONNX Runtime - '
                  f'PyTorch| / max |PyTorch| = {max(errors):.1e} over '
                  f'{len(errors)} outputs; {flips} tied nodes followed ONNX '
                  f'Runtime\'s neighbours')
    return worst


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='mmpretrain or mmdet config file')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint: a path or an http(s) URL (default: '
                        'the config\'s initialisation)')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224],
                        metavar=('H', 'W'),
                        help='example input size (the size of a fixed graph)')
    parser.add_argument('--batch', type=int, default=1,
                        help='example batch (the batch of a fixed graph)')
    parser.add_argument('--dynamic', action='store_true',
                        help='any batch and input size in one graph')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--backbone', action='store_true',
                        help='export only the backbone\'s feature maps')
    parser.add_argument('--check', type=int, nargs='*', metavar='H W',
                        help='compare ONNX Runtime with PyTorch at these '
                        'sizes (default: the export shape)')
    args = parser.parse_args()
    if not osp.isfile(args.config):
        parser.error(f'config {args.config} does not exist')
    if args.batch < 1:
        parser.error(f'--batch must be positive, got {args.batch}')
    if args.check is not None:
        if len(args.check) % 2:
            parser.error('--check takes pairs H W')
        args.check = list(zip(args.check[::2], args.check[1::2])) or [
            tuple(args.shape)]
        if not args.dynamic and any(
                s != tuple(args.shape) for s in args.check):
            parser.error('a fixed graph can only be checked at --shape; '
                         'add --dynamic')
    return args


def main():
    args = parse_args()
    try:
        model, names = build_model(args.config, args.checkpoint,
                                   args.backbone)
    except (CheckpointError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    smallest = min_input_size(model)
    sizes = [tuple(args.shape)] + (args.check or [])
    if min(min(size) for size in sizes) < smallest:
        sys.exit(f'error: this backbone needs inputs of at least '
                 f'{smallest}x{smallest} pixels; got {sizes}')
    images = torch.randn(args.batch, 3, *args.shape)
    start = time.perf_counter()
    export_onnx(model, args.out, images, names, dynamic=args.dynamic,
                opset=args.opset)
    kind = 'dynamic (any batch and size)' if args.dynamic else (
        f'fixed {args.batch}x3x{args.shape[0]}x{args.shape[1]}')
    print(f'wrote {args.out}: {kind}, opset {args.opset}, outputs '
          f'{", ".join(names)} ({time.perf_counter() - start:.1f} s)')
    if args.check:
        batches = sorted({1, args.batch}) if args.dynamic else [args.batch]
        worst = check(model, args.out, args.check, batches)
        if worst > CHECK_TOLERANCE:
            sys.exit(f'error: ONNX Runtime differs from PyTorch by '
                     f'{worst:.1e} of the output scale (tolerance '
                     f'{CHECK_TOLERANCE:g})')


if __name__ == '__main__':
    main()
