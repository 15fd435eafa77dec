_base_ = './fpn_greedyvig-s_8xb4-40k_ade20k-512x512.py'
# The authors' ImageNet-1k training checkpoint (83.9 top-1, from
# https://huggingface.co/SLDGroup/GreedyViG), downloaded to checkpoints/.
pretrained = 'checkpoints/B_GreedyViG_83_9.pth'
model = dict(
    backbone=dict(arch='b', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
