"""mmseg's MMSegInferencer runs mmvig's configs on a real photograph and
writes colour-coded masks of the photograph's size."""
import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from sklearn.datasets import load_sample_image

from ..helpers import ROOT

CONFIG = ROOT / 'configs/sem_fpn/fpn_pvig-ti_4xb8-40k_ade20k-512x512.py'


def test_inferencer_writes_a_colour_coded_mask_of_a_photograph(tmp_path):
    from mmseg.apis import MMSegInferencer
    from mmseg.datasets import ADE20KDataset
    from mmseg.registry import MODELS

    photo = tmp_path / 'china.png'  # 427x640, shipped with scikit-learn
    cv2.imwrite(str(photo), load_sample_image('china.jpg')[..., ::-1])
    # A checkpoint as training writes it: weights and the dataset's classes
    # and palette (the ImageNet weights cannot be downloaded here; random
    # ones exercise the same path).
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=ADE20KDataset.METAINFO)),
               tmp_path / 'fpn_pvig-ti.pth')

    inferencer = MMSegInferencer(
        cfg, weights=str(tmp_path / 'fpn_pvig-ti.pth'), device='cpu')
    result = inferencer(str(photo), out_dir=str(tmp_path / 'out'),
                        opacity=1.0, with_labels=False,
                        return_datasamples=True)
    labels = result.pred_sem_seg.data[0].numpy()
    assert labels.shape == (427, 640)
    mask = cv2.imread(str(tmp_path / 'out' / 'vis' / 'china.png'))
    assert mask is not None and mask.shape == (427, 640, 3)
    # Every pixel has its predicted class's colour.
    palette = np.array(ADE20KDataset.METAINFO['palette'], dtype=np.uint8)
    expected = palette[labels][..., ::-1]  # RGB palette, BGR file
    assert np.abs(mask.astype(int) - expected).max() <= 2
