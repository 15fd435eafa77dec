_base_ = './retinanet_greedyvig-s_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (82.9 top-1, from
# https://huggingface.co/SLDGroup/GreedyViG), downloaded to checkpoints/.
pretrained = 'checkpoints/M_GreedyViG_82_9.pth'
model = dict(
    backbone=dict(arch='m', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[56, 112, 224, 448]))
