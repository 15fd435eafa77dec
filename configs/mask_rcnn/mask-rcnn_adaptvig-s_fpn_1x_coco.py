# The MobileViG-M detector's settings with AdaptViG-S: the authors'
# mask_rcnn_adaptvig_s_fpn_1x_coco (AdamW lr 2e-4, weight decay 0.05, 1x).
_base_ = './mask-rcnn_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (from
# https://huggingface.co/SLDGroup/AdaptViG), downloaded to
# checkpoints/; its EMA weights, as the authors' detectors and segmentors
# load them.
pretrained = 'checkpoints/adaptvig-s_in1k.pth'
model = dict(
    backbone=dict(
        type='mmvig.AdaptViG',
        arch='s',
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[32, 64, 128, 256]))
