"""Classify one image with a config and checkpoint; print the top classes.

    python demo/image_demo.py IMAGE CONFIG --checkpoint CKPT [--topk 5]
        [--device cpu] [--show-dir DIR]

CKPT is a local path or an http(s) URL (loaded weights-only).
"""
import argparse
import os.path as osp
import sys

import torch

import mmvig  # noqa: F401  (modules, safe checkpoint loading)
from mmvig.checkpoint import CheckpointError


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='checkpoint: path or URL')
    parser.add_argument('--topk', type=int, default=5,
                        help='number of classes to print (default: 5)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--show-dir',
                        help='also save the image with its prediction here')
    args = parser.parse_args()
    for name in ('img', 'config'):
        if not osp.isfile(getattr(args, name)):
            parser.error(f'{name} {getattr(args, name)} does not exist')
    if args.topk < 1:
        parser.error(f'--topk must be positive, got {args.topk}')
    return args


def main():
    args = parse_args()
    from mmpretrain.apis import ImageClassificationInferencer
    try:
        inferencer = ImageClassificationInferencer(
            args.config, pretrained=args.checkpoint or False,
            device=args.device)
    except (CheckpointError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    result = inferencer(args.img, show_dir=args.show_dir)[0]
    scores = torch.from_numpy(result['pred_scores'])
    classes = inferencer.classes or [str(i) for i in range(len(scores))]
    values, labels = scores.topk(min(args.topk, len(scores)))
    print(f'{args.img}: top-{len(labels)}')
    for rank, (score, label) in enumerate(zip(values, labels), 1):
        print(f'  {rank}. {classes[label]:<12} {score:.4f}')


if __name__ == '__main__':
    main()
