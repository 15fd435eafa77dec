import json
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from ..helpers import load_tool

prepare_digits = load_tool('tools/dataset_converters/prepare_digits.py')
split_digits, write_dataset = (prepare_digits.split_digits,
                               prepare_digits.write_dataset)


def _files(root, split):
    return sorted(p.relative_to(root / split)
                  for p in (root / split).rglob('*.png'))


def test_split_is_stratified_disjoint_and_seeded():
    images, labels, split = split_digits(0.2, seed=0)
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert images.max() == 255  # the 4-bit scans span the full 8-bit range
    train, val = set(split['train']), set(split['val'])
    assert not train & val and len(train | val) == 1797
    assert len(val) == 360
    val_counts = Counter(labels[sorted(val)])
    assert min(val_counts.values()) >= 35 and len(val_counts) == 10
    assert split_digits(0.2, seed=0)[2] == split
    assert split_digits(0.2, seed=1)[2]['val'] != split['val']


def test_writes_image_folder(digits_root):
    counts = json.loads((digits_root / 'split.json').read_text())['counts']
    assert counts == dict(train=1437, val=360)
    train, val = _files(digits_root, 'train'), _files(digits_root, 'val')
    assert len(train) == 1437 and len(val) == 360
    assert {p.parts[0] for p in val} == {str(d) for d in range(10)}
    images, labels, _ = split_digits(0.2, seed=0)
    path = val[0]
    index = int(path.stem)
    assert str(labels[index]) == path.parts[0]
    loaded = np.asarray(Image.open(digits_root / 'val' / path))
    assert np.array_equal(loaded, images[index])


def test_refuses_a_directory_it_did_not_write(tmp_path):
    (tmp_path / 'train').mkdir()
    (tmp_path / 'train' / 'mine.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='not written by this tool'):
        write_dataset(str(tmp_path))
    assert (tmp_path / 'train' / 'mine.txt').read_text() == 'keep me'


def test_rewrites_its_own_split(tmp_path):
    write_dataset(str(tmp_path), val_ratio=0.5, seed=0)
    write_dataset(str(tmp_path), val_ratio=0.2, seed=0)
    assert len(_files(tmp_path, 'val')) == 360
    assert len(_files(tmp_path, 'train')) == 1437
