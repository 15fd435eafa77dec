"""The synthetic segmentation generator: label maps that match the scenes,
deterministic files, and a layout mmseg's dataset reads."""
import filecmp
import subprocess
import sys

import cv2
import numpy as np

from ..helpers import ROOT

SCRIPT = ROOT / 'tools' / 'dataset_converters' / 'synthetic_seg.py'


def _generate(out_dir, *args):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out_dir), '--num-train', '6',
         '--num-val', '3', *args], capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_labels_mark_the_shapes_drawn_on_textured_backgrounds(tmp_path):
    out = _generate(tmp_path)
    assert 'wrote 6 train images' in out and 'wrote 3 val images' in out
    images = sorted((tmp_path / 'img_dir' / 'train').glob('*.jpg'))
    labels = sorted((tmp_path / 'ann_dir' / 'train').glob('*.png'))
    assert [p.stem for p in images] == [p.stem for p in labels]
    assert len(images) == 6
    seen = set()
    for image_path, label_path in zip(images, labels):
        image = cv2.imread(str(image_path)).astype(np.float64)
        label = cv2.imread(str(label_path), cv2.IMREAD_UNCHANGED)
        assert label.shape == image.shape[:2] == (96, 96)
        assert label.dtype == np.uint8 and label.max() <= 3
        seen |= set(np.unique(label).tolist())
        background = image[label == 0]
        # Textured: the background varies far beyond its noise (std 12).
        assert background.std(axis=0).max() > 15
        # Each shape is one flat colour, far from the background's.
        eroded = cv2.erode((label > 0).astype(np.uint8), np.ones((5, 5)))
        count, shapes = cv2.connectedComponents(eroded)
        for index in range(1, count):
            inside = image[shapes == index]
            assert inside.std(axis=0).max() < 12  # JPEG artefacts only
            assert np.abs(inside.mean(axis=0) -
                          background.mean(axis=0)).max() > 40
    assert seen == {0, 1, 2, 3}


def test_same_seed_same_files_other_seed_other_scenes(tmp_path):
    _generate(tmp_path / 'a')
    _generate(tmp_path / 'b')
    _generate(tmp_path / 'c', '--seed', '1')
    for name in ('img_dir/val/000003.jpg', 'ann_dir/val/000003.png'):
        assert filecmp.cmp(tmp_path / 'a' / name, tmp_path / 'b' / name,
                           shallow=False)
        assert not filecmp.cmp(tmp_path / 'a' / name, tmp_path / 'c' / name,
                               shallow=False)


def test_mmseg_reads_the_dataset(tmp_path):
    _generate(tmp_path)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(ROOT / 'configs/_base_/datasets/synthetic_seg.py')
    init_default_scope('mmseg')
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = str(tmp_path)
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == ('background', 'circle',
                                           'triangle', 'square')
    sample = dataset[0]
    label = cv2.imread(str(tmp_path / 'ann_dir/val/000001.png'),
                       cv2.IMREAD_UNCHANGED)
    assert np.array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(),
                          label)
    assert tuple(sample['inputs'].shape) == (3, 96, 96)
