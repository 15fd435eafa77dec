"""The synthetic COCO generator: valid, deterministic annotations."""
import filecmp
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from pycocotools.coco import COCO

from ..helpers import ROOT

SCRIPT = ROOT / 'tools' / 'dataset_converters' / 'synthetic_coco.py'


def _generate(out_dir, *args):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out_dir), '--num-train', '6',
         '--num-val', '3', *args], capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_writes_a_coco_dataset_whose_masks_fit_their_boxes(tmp_path):
    out = _generate(tmp_path)
    assert 'wrote 6 train images' in out
    coco = COCO(str(tmp_path / 'annotations' / 'instances_train.json'))
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == [
        'circle', 'triangle', 'square']
    assert len(coco.getImgIds()) == 6
    for image_id in coco.getImgIds():
        info = coco.loadImgs(image_id)[0]
        image = cv2.imread(str(tmp_path / 'train' / info['file_name']))
        assert image.shape == (info['height'], info['width'], 3)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        assert anns, 'every image has at least one shape'
        union = np.zeros(image.shape[:2], dtype=np.int32)
        for ann in anns:
            mask = coco.annToMask(ann)
            union += mask
            ys, xs = np.nonzero(mask)
            x, y, w, h = ann['bbox']
            # The rasterised polygon fills its box to within a pixel.
            assert abs(xs.min() - x) <= 1 and abs(ys.min() - y) <= 1
            assert abs(xs.max() + 1 - (x + w)) <= 1.5
            assert abs(ys.max() + 1 - (y + h)) <= 1.5
            assert abs(mask.sum() - ann['area']) <= 0.1 * ann['area'] + 10
        assert union.max() == 1, 'shapes do not overlap'


def test_same_seed_same_files_other_seed_other_scenes(tmp_path):
    _generate(tmp_path / 'a')
    _generate(tmp_path / 'b')
    _generate(tmp_path / 'c', '--seed', '1')
    ann = Path('annotations') / 'instances_val.json'
    assert filecmp.cmp(tmp_path / 'a' / ann, tmp_path / 'b' / ann,
                       shallow=False)
    assert filecmp.cmp(tmp_path / 'a' / 'val' / '000001.jpg',
                       tmp_path / 'b' / 'val' / '000001.jpg', shallow=False)
    other = json.loads((tmp_path / 'c' / ann).read_text())
    assert other != json.loads((tmp_path / 'a' / ann).read_text())
