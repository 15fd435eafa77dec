_base_ = './fpn_greedyvig-s_8xb4-40k_ade20k-512x512.py'
# The authors' ImageNet-1k training checkpoint (82.9 top-1, from
# https://huggingface.co/SLDGroup/GreedyViG), downloaded to checkpoints/.
pretrained = 'checkpoints/M_GreedyViG_82_9.pth'
model = dict(
    backbone=dict(arch='m', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[56, 112, 224, 448]))
