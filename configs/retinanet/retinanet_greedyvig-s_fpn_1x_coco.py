# The MobileViG-M detector's settings with GreedyViG-S.
_base_ = './retinanet_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (81.1 top-1, from
# https://huggingface.co/SLDGroup/GreedyViG), downloaded to checkpoints/.
pretrained = 'checkpoints/S_GreedyViG_81_1.pth'
model = dict(
    backbone=dict(
        type='mmvig.GreedyViG',
        arch='s',
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[48, 96, 192, 384]))
