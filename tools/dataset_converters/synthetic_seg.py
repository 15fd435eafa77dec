"""Write a small semantic segmentation dataset of synthetic scenes.

The scenes of :mod:`mmvig.synthetic_scenes` (non-overlapping circles, triangles and
squares of random colour, position, scale and rotation) on textured
backgrounds (two random sine gratings over noise), with a label map per
image: 0 for the background, 1-3 for the shapes in ``CLASSES`` order. The
same seed gives the same files. Used to check on CPU, in minutes, that a
segmentor learns::

    python tools/dataset_converters/synthetic_seg.py data/synthetic_seg

writes ``img_dir/{train,val}/*.jpg`` and ``ann_dir/{train,val}/*.png``
(uint8 labels), the layout of mmseg's ``BaseSegDataset``.
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np

from mmvig.synthetic_scenes import CLASSES as SHAPES
from mmvig.synthetic_scenes import make_scene

CLASSES = ('background', ) + SHAPES


def label_map(objects, width, height):
    """``(H, W)`` uint8 labels of a scene's ``(label, polygon)`` objects."""
    labels = np.zeros((height, width), dtype=np.uint8)
    for label, polygon in objects:
        cv2.fillPoly(labels, [np.round(polygon).astype(np.int32)], label + 1)
    return labels


def write_split(out_dir, split, num_images, rng, width, height, max_shapes,
                radius_range):
    """Write one split; returns the pixel count of each class."""
    for folder in ('img_dir', 'ann_dir'):
        os.makedirs(osp.join(out_dir, folder, split), exist_ok=True)
    counts = np.zeros(len(CLASSES), dtype=np.int64)
    for index in range(1, num_images + 1):
        image, objects = make_scene(rng, width, height, max_shapes,
                                    radius_range, texture=True)
        labels = label_map(objects, width, height)
        counts += np.bincount(labels.ravel(), minlength=len(CLASSES))
        cv2.imwrite(osp.join(out_dir, 'img_dir', split, f'{index:06d}.jpg'),
                    image)
        cv2.imwrite(osp.join(out_dir, 'ann_dir', split, f'{index:06d}.png'),
                    labels)
    return counts


def generate(out_dir, num_train=200, num_val=50, width=96, height=96,
             max_shapes=3, radius_range=(12, 32), seed=0):
    """Write both splits under ``out_dir``; returns the pixel count of each
    class per split."""
    rng = np.random.default_rng(seed)
    return {
        split: write_split(out_dir, split, num, rng, width, height,
                           max_shapes, radius_range)
        for split, num in (('train', num_train), ('val', num_val))
    }


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='where to write the dataset')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument('--size', type=int, nargs=2, default=(96, 96),
                        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--max-shapes', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    counts = generate(args.out_dir, args.num_train, args.num_val,
                      *args.size, max_shapes=args.max_shapes, seed=args.seed)
    for split, num in (('train', args.num_train), ('val', args.num_val)):
        share = ', '.join(f'{name} {c / counts[split].sum():.1%}'
                          for name, c in zip(CLASSES, counts[split]))
        print(f'wrote {num} {split} images to {args.out_dir} ({share} of '
              f'the pixels)')


if __name__ == '__main__':
    main()
