"""Write a small COCO-format instance dataset of synthetic scenes.

Each image shows a few non-overlapping shapes (circle, triangle, square) of
random colour, position, scale and rotation on a noisy background; every
shape is annotated with its box and polygon mask. The same seed gives the
same files. Used to check on CPU, in minutes, that a detector learns::

    python tools/dataset_converters/synthetic_coco.py data/synthetic_coco

writes ``train/``, ``val/`` and ``annotations/instances_{train,val}.json``.
"""
import argparse
import json
import os
import os.path as osp

import cv2
import numpy as np

from mmvig.synthetic_scenes import CLASSES, make_scene

def write_split(out_dir, split, num_images, rng, width, height, max_shapes,
                radius_range):
    os.makedirs(osp.join(out_dir, split), exist_ok=True)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        image, objects = make_scene(rng, width, height, max_shapes,
                                    radius_range)
        file_name = f'{image_id:06d}.jpg'
        cv2.imwrite(osp.join(out_dir, split, file_name), image)
        images.append(dict(id=image_id, file_name=file_name, width=width,
                           height=height))
        for label, polygon in objects:
            x0, y0 = polygon.min(axis=0)
            x1, y1 = polygon.max(axis=0)
            annotations.append(
                dict(id=len(annotations) + 1, image_id=image_id,
                     category_id=label + 1, iscrowd=0,
                     bbox=[float(x0), float(y0), float(x1 - x0),
                           float(y1 - y0)],
                     area=float(cv2.contourArea(polygon.astype(np.float32))),
                     segmentation=[polygon.round(2).ravel().tolist()]))
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    with open(osp.join(out_dir, 'annotations', f'instances_{split}.json'),
              'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=categories), f)
    return len(annotations)


def generate(out_dir, num_train=200, num_val=50, width=256, height=192,
             max_shapes=4, radius_range=(12, 48), seed=0):
    """Write both splits under ``out_dir``; returns the number of objects of
    each."""
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
    parser.add_argument('--size', type=int, nargs=2, default=(256, 192),
                        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--max-shapes', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    counts = generate(args.out_dir, args.num_train, args.num_val,
                      *args.size, max_shapes=args.max_shapes, seed=args.seed)
    print(f'wrote {args.num_train} train images ({counts["train"]} objects) '
          f'and {args.num_val} val images ({counts["val"]} objects) to '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
