_base_ = './mask-rcnn_mobilevig-m_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (75.7 top-1, from
# https://huggingface.co/SLDGroup/MobileViG), downloaded to checkpoints/.
pretrained = 'checkpoints/MobileViG_Ti_75_7.pth.tar'
model = dict(
    backbone=dict(arch='ti', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[42, 84, 168, 256]))
