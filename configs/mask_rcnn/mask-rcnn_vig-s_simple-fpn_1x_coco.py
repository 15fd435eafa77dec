# Isotropic ViG-S (one stride-16 output) in Mask R-CNN: the simple feature
# pyramid of ViTDet builds strides 4-64 from the last block's output.
_base_ = './mask-rcnn_pvig-s_fpn_1x_coco.py'
# The authors' ImageNet-1k weights (80.6 top-1).
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/vig/vig_s_80.6.pth'  # noqa
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvig.ViG',
        arch='small',
        out_indices=-1,
        drop_path_rate=0.1,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(
        _delete_=True,
        type='mmvig.SimpleFeaturePyramid',
        in_channels=320,
        out_channels=256,
        num_outs=5))
