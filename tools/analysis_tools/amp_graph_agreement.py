"""How much mixed precision changes a trained ViG's KNN graphs.

Runs a classifier on images in float32 and under autocast (bfloat16 and
float16), and compares each Grapher's neighbour sets with the float32
model's, two ways:

- per block: each Grapher gets the float32 model's input to it, so the
  difference is the block's own (fc1 in low precision, then the KNN);
- end to end: the whole model under autocast, so rounding accumulates
  through every layer before the graph is built.

Each as mmvig builds the graph (distances ranked in float32) and, for
comparison, with the distances computed and ranked in the low precision
(what a plain KNN does under autocast).

    python tools/analysis_tools/amp_graph_agreement.py CONFIG CHECKPOINT
        IMAGE_DIR [--max-images 360] [--batch 120] [--device cpu]

Prints the share of nodes whose neighbour set equals the float32 model's.
"""
import argparse
import contextlib
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

import mmvig  # noqa: F401  (modules, safe checkpoint loading)
from mmvig.checkpoint import CheckpointError
from mmvig.models.layers import Grapher
from mmvig.ops import KNNGraph, replace_builders
from mmvig.ties import record_graphs


class LowPrecisionKNN(KNNGraph):
    """The KNN with distances computed and ranked in the queries' dtype (the
    alternative mmvig does not take), densely."""

    def forward(self, x, y=None, pos_factors=None):
        x = F.normalize(x, dim=1)
        y = x if y is None else F.normalize(y, dim=1)
        k, dilation = self.clamped(y.shape[-1])
        dist = y.pow(2).sum(1, keepdim=True) - 2 * x.transpose(1, 2) @ y
        if pos_factors is not None:
            query, key = (f.to(x.dtype) for f in pos_factors)
            dist = dist + query @ key.t()
        return dist.topk(k * dilation, dim=-1,
                         largest=False).indices[..., ::dilation]


def ranking(model, low_precision):
    """Within the block, ``model``'s graphs are ranked in low precision
    (:class:`LowPrecisionKNN`) if asked, else as mmvig ranks them."""
    if not low_precision:
        return contextlib.nullcontext()
    return replace_builders(model, lambda builder: LowPrecisionKNN(
        builder.k, builder.dilation))


def end_to_end_graphs(model, inputs, dtype=None, low_precision=False):
    """Neighbour indices of every Grapher of the whole model under autocast
    to ``dtype`` (``None``: float32), in forward order."""
    with ranking(model, low_precision), record_graphs(model) as graphs, \
            torch.no_grad(), torch.autocast(inputs.device.type, dtype=dtype,
                                            enabled=dtype is not None):
        model.extract_feat(inputs)
    return graphs


def same_sets(a, b):
    """Per node: is the neighbour set the same?"""
    return (a.sort(-1).values == b.sort(-1).values).all(-1)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config of a ViG classifier')
    parser.add_argument('checkpoint', help='trained checkpoint: path or URL')
    parser.add_argument('images', help='folder of images (searched '
                        'recursively for .png / .jpg)')
    parser.add_argument('--max-images', type=int, default=360)
    parser.add_argument('--batch', type=int, default=120)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def per_block_graphs(model, inputs, dtype=None, low_precision=False):
    """Each Grapher's graph of the float32 model's input to it."""
    graphers = [m for m in model.backbone.modules() if isinstance(m, Grapher)]
    block_inputs = []
    handles = [g.register_forward_pre_hook(
        lambda _, args: block_inputs.append(args[0])) for g in graphers]
    try:
        with torch.no_grad():
            model.extract_feat(inputs)
    finally:
        for handle in handles:
            handle.remove()
    with ranking(model, low_precision), torch.no_grad(), torch.autocast(
            inputs.device.type, dtype=dtype, enabled=dtype is not None):
        return [g.neighbours(g.fc1(x))[1]
                for g, x in zip(graphers, block_inputs)]


def main():
    args = parse_args()
    paths = sorted(p for p in Path(args.images).rglob('*')
                   if p.suffix.lower() in ('.png', '.jpg', '.jpeg'))
    paths = paths[:args.max_images]
    if not paths:
        sys.exit(f'error: no .png / .jpg images under {args.images}')
    from mmpretrain.apis import ImageClassificationInferencer
    try:
        inferencer = ImageClassificationInferencer(
            args.config, pretrained=args.checkpoint, device=args.device)
    except (CheckpointError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    model = inferencer.model.eval()

    runs = {}  # (scope, dtype, ranking) -> [same, nodes]
    for batch in inferencer.preprocess([str(p) for p in paths],
                                       batch_size=args.batch):
        inputs = model.data_preprocessor(batch)['inputs']
        for scope, graphs in (('per block', per_block_graphs),
                              ('end to end', end_to_end_graphs)):
            reference = graphs(model, inputs)
            for dtype in (torch.bfloat16, torch.float16):
                for ranked_in, low in (('float32', False), ('low', True)):
                    run = graphs(model, inputs, dtype, low)
                    count = runs.setdefault((scope, dtype, ranked_in),
                                            [0, 0])
                    for got, expected in zip(run, reference):
                        count[0] += same_sets(got, expected).sum().item()
                        count[1] += expected.shape[0] * expected.shape[1]

    print(f'{len(paths)} images: share of nodes whose neighbour set equals '
          f'the float32 model\'s')
    print(f'{"":<11} {"autocast":<9} {"ranked in float32 (mmvig)":>26} '
          f'{"ranked in low precision":>24}')
    for scope in ('per block', 'end to end'):
        for dtype in (torch.bfloat16, torch.float16):
            mmvig_run, low_run = (runs[(scope, dtype, r)]
                                  for r in ('float32', 'low'))
            print(f'{scope:<11} {str(dtype).split(".")[1]:<9} '
                  f'{100 * mmvig_run[0] / mmvig_run[1]:>25.2f}% '
                  f'{100 * low_run[0] / low_run[1]:>23.2f}%')


if __name__ == '__main__':
    main()
