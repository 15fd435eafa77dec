# The MobileViG-M detector's settings with MobileViGv2-S: the authors'
# mask_rcnn_mobilevigv2_s_fpn_1x_coco (AdamW lr 2e-4, weight decay 0.05, 1x).
_base_ = './mask-rcnn_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (from
# https://huggingface.co/SLDGroup/MobileViGv2), downloaded to
# checkpoints/; its EMA weights, as the authors' detectors and segmentors
# load them.
pretrained = 'checkpoints/mobilevigv2-s_in1k.pth'
model = dict(
    backbone=dict(
        type='mmvig.MobileViGv2',
        arch='s',
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[32, 64, 128, 256]))
