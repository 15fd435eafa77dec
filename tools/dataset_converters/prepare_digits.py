"""Write scikit-learn's handwritten digits as an image-folder dataset.

scikit-learn ships the UCI digits (1,797 real 8x8 scans, 10 classes), so no
download is needed. The images are split into train and val (stratified,
fixed seed) and written as 8-bit grayscale PNGs, one folder per class, the
layout mmpretrain's ``CustomDataset`` reads::

    OUT/train/0/0000.png ...   OUT/val/9/1796.png   OUT/split.json

    python tools/dataset_converters/prepare_digits.py [--out data/digits]
"""
import argparse
import json
import os
import os.path as osp
import shutil

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SPLIT_FILE = 'split.json'


def split_digits(val_ratio, seed):
    """Images ``(N, 8, 8)`` uint8 in [0, 255], labels, and the train / val
    indices."""
    digits = load_digits()
    # The scans are 4-bit (0..16).
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    indices = np.arange(len(images))
    train, val = train_test_split(
        indices, test_size=val_ratio, random_state=seed,
        stratify=digits.target)
    return images, digits.target, dict(train=sorted(train), val=sorted(val))


def write_dataset(out, val_ratio=0.2, seed=0):
    """Write the split to ``out``; a previous split written here is
    replaced, anything else in the way is refused.

    Returns:
        dict: number of images per split.
    """
    for name in ('train', 'val'):
        if osp.exists(osp.join(out, name)) and not osp.isfile(
                osp.join(out, SPLIT_FILE)):
            raise FileExistsError(
                f'{osp.join(out, name)} exists and was not written by this '
                f'tool; choose another --out')
    images, labels, split = split_digits(val_ratio, seed)
    counts = {name: len(indices) for name, indices in split.items()}
    # Written first: it marks the directory as this tool's, also when a run
    # is interrupted.
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, SPLIT_FILE), 'w') as f:
        json.dump(dict(seed=seed, val_ratio=val_ratio, counts=counts), f)
    for name, indices in split.items():
        shutil.rmtree(osp.join(out, name), ignore_errors=True)
        for label in range(10):
            os.makedirs(osp.join(out, name, str(label)))
        for index in indices:
            Image.fromarray(images[index]).save(
                osp.join(out, name, str(labels[index]), f'{index:04d}.png'))
    return counts


def main():
    parser = argparse.ArgumentParser(
        description='Write the scikit-learn digits as an image folder')
    parser.add_argument('--out', default='data/digits',
                        help='output directory (default: data/digits)')
    parser.add_argument('--val-ratio', type=float, default=0.2,
                        help='held-out fraction (default: 0.2)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the split (default: 0)')
    args = parser.parse_args()
    if not 0 < args.val_ratio < 1:
        parser.error(f'--val-ratio must be in (0, 1), got {args.val_ratio}')
    counts = write_dataset(args.out, args.val_ratio, args.seed)
    print(f'wrote {counts["train"]} train and {counts["val"]} val digits to '
          f'{args.out}')


if __name__ == '__main__':
    main()
