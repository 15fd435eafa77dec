# The MobileViG-M RetinaNet settings with MobileViGv2-M (the authors trained
# no RetinaNet).
_base_ = './retinanet_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (from
# https://huggingface.co/SLDGroup/MobileViGv2), downloaded to
# checkpoints/; its EMA weights, as the authors' detectors and segmentors
# load them.
pretrained = 'checkpoints/mobilevigv2-m_in1k.pth'
model = dict(
    backbone=dict(
        type='mmvig.MobileViGv2',
        arch='m',
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[32, 64, 192, 384]))
