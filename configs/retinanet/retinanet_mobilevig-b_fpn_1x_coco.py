_base_ = './retinanet_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (82.6 top-1, from
# https://huggingface.co/SLDGroup/MobileViG), downloaded to checkpoints/.
pretrained = 'checkpoints/MobileViG_B_82_6.pth.tar'
model = dict(
    backbone=dict(arch='b', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[42, 84, 240, 464]))
