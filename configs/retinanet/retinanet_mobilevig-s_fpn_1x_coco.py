_base_ = './retinanet_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (78.2 top-1, from
# https://huggingface.co/SLDGroup/MobileViG), downloaded to checkpoints/.
pretrained = 'checkpoints/MobileViG_S_78_2.pth.tar'
model = dict(
    backbone=dict(arch='s', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[42, 84, 176, 256]))
