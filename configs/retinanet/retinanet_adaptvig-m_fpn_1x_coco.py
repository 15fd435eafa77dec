# The MobileViG-M RetinaNet settings with AdaptViG-M (the authors trained
# no RetinaNet).
_base_ = './retinanet_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (from
# https://huggingface.co/SLDGroup/AdaptViG), downloaded to
# checkpoints/; its EMA weights, as the authors' detectors and segmentors
# load them.
pretrained = 'checkpoints/adaptvig-m_in1k.pth'
model = dict(
    backbone=dict(
        type='mmvig.AdaptViG',
        arch='m',
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[48, 96, 192, 320]))
