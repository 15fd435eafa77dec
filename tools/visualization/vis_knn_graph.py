"""Draw the KNN graph a ViG builds on an image (the paper's Fig. 4).

For a centre node, the keys it links to in a shallow and a deep Grapher are
drawn over the image: a red centre, blue neighbours, lines between them.

    python tools/visualization/vis_knn_graph.py IMAGE CONFIG CHECKPOINT
        --out graph.png [--node 0.5 0.5] [--blocks 0 -1]

By default the shallow block is the first and the deep one the deepest whose
graph is not complete (it has more keys than neighbours), since at small
inputs the last stages of Pyramid ViG have fewer nodes than ``k``.
"""
import argparse
import os.path as osp
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import mmvig  # noqa: E402,F401  (modules, safe checkpoint loading)
from mmvig.checkpoint import CheckpointError  # noqa: E402
from mmvig.models.layers import Grapher  # noqa: E402


def record_graphs(model, inputs):
    """Run ``model`` on ``inputs`` ``(1, 3, H, W)`` and return, for every
    Grapher in forward order, its name, node grid ``(h, w)``, key grid,
    reduce ratio and neighbour indices ``(h * w, k)``."""
    graphs = []

    def hook(name, grapher):
        # The graph is built from fc1's output (Grapher.forward).
        def record(_, __, out):
            _, index = grapher.neighbours(out)
            h, w = out.shape[-2:]
            r = grapher.reduce_ratio
            graphs.append(dict(name=name, nodes=(h, w), ratio=r,
                               keys=(-(-h // r), -(-w // r)), index=index[0]))
        return record

    graphers = [(name, m) for name, m in model.backbone.named_modules()
                if isinstance(m, Grapher)]
    if not graphers:
        raise ValueError(
            f'{type(model.backbone).__name__} has no Grapher: the KNN graph '
            f'can be drawn for ViG and Pyramid ViG backbones only')
    handles = [g.fc1.register_forward_hook(hook(name, g))
               for name, g in graphers]
    try:
        with torch.no_grad():
            model.extract_feat(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return graphs


def default_blocks(graphs):
    """The first block and the deepest with more keys than neighbours."""
    deep = max((i for i, g in enumerate(graphs)
                if g['keys'][0] * g['keys'][1] > g['index'].shape[-1]),
               default=len(graphs) - 1)
    return [0, deep]


def draw(ax, image, graph, node, title):
    """Draw the neighbours of the node at relative position ``node`` (y, x)
    over ``image`` ``(H, W, 3)`` RGB."""
    height, width = image.shape[:2]
    (h, w), (_, key_w), r = graph['nodes'], graph['keys'], graph['ratio']
    row, col = min(int(node[0] * h), h - 1), min(int(node[1] * w), w - 1)

    def pixel(start, stop, size, cells):
        """Middle of node cells [start, stop) of ``cells``, in pixels."""
        return (start + min(stop, cells)) / 2 * size / cells

    ax.imshow(image, extent=(0, width, height, 0), interpolation='nearest')
    for y in range(1, h):
        ax.axhline(y * height / h, color='white', lw=0.3, alpha=0.4)
    for x in range(1, w):
        ax.axvline(x * width / w, color='white', lw=0.3, alpha=0.4)
    cy, cx = pixel(row, row + 1, height, h), pixel(col, col + 1, width, w)
    for key in graph['index'][row * w + col].tolist():
        # A key is the average of r x r nodes (fewer at the border).
        ky, kx = key // key_w * r, key % key_w * r
        ky, kx = pixel(ky, ky + r, height, h), pixel(kx, kx + r, width, w)
        ax.plot([cx, kx], [cy, ky], color='#1f77ff', lw=1.5, alpha=0.8)
        ax.plot(kx, ky, 'o', color='#1f77ff', ms=7, mec='white', mew=1)
    ax.plot(cx, cy, 'o', color='red', ms=10, mec='white', mew=1.5)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file of a ViG classifier')
    parser.add_argument('checkpoint', help='checkpoint: path or URL')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument(
        '--node', type=float, nargs=2, default=(0.5, 0.5),
        metavar=('Y', 'X'),
        help='centre node, relative position in the image (default: the '
        'middle, 0.5 0.5)')
    parser.add_argument(
        '--blocks', type=int, nargs='+',
        help='Grapher blocks to draw, in forward order (negative counts from '
        'the end; default: the first and the deepest non-complete graph)')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    if not all(0 <= v <= 1 for v in args.node):
        parser.error(f'--node takes relative positions in [0, 1], got '
                     f'{args.node}')
    for name in ('img', 'config'):
        if not osp.isfile(getattr(args, name)):
            parser.error(f'{name} {getattr(args, name)} does not exist')
    return args


def main():
    args = parse_args()
    from mmpretrain.apis import ImageClassificationInferencer
    try:
        inferencer = ImageClassificationInferencer(
            args.config, pretrained=args.checkpoint, device=args.device)
    except (CheckpointError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    model = inferencer.model
    batch = next(inferencer.preprocess([args.img]))
    inputs = model.data_preprocessor(batch)['inputs']
    graphs = record_graphs(model, inputs)
    blocks = args.blocks or default_blocks(graphs)
    for block in blocks:
        if not -len(graphs) <= block < len(graphs):
            sys.exit(f'error: --blocks {block} is out of range: the model '
                     f'has {len(graphs)} Grapher blocks')

    # The image as the model sees it (after resize / crop); loaded as BGR.
    shown = batch['inputs'][0].permute(1, 2, 0).numpy()[..., ::-1]
    fig, axes = plt.subplots(1, len(blocks), figsize=(4 * len(blocks), 4.8),
                             squeeze=False, layout='constrained')
    for ax, block in zip(axes[0], blocks):
        graph = graphs[block]
        (h, w), k = graph['nodes'], graph['index'].shape[-1]
        draw(ax, shown, graph, args.node,
             f'block {block % len(graphs) + 1} of {len(graphs)} '
             f'({graph["name"].rsplit(".", 1)[0]})\n{h}x{w} nodes, k={k}')
    fig.suptitle(f'KNN graph of one node: {osp.basename(args.img)}')
    fig.savefig(args.out, dpi=100)
    print(f'wrote {args.out} (blocks {[b % len(graphs) + 1 for b in blocks]}'
          f' of {len(graphs)})')


if __name__ == '__main__':
    main()
