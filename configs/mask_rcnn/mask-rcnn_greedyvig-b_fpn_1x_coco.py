_base_ = './mask-rcnn_greedyvig-s_fpn_1x_coco.py'
# The authors' ImageNet-1k training checkpoint (83.9 top-1, from
# https://huggingface.co/SLDGroup/GreedyViG), downloaded to checkpoints/.
pretrained = 'checkpoints/B_GreedyViG_83_9.pth'
model = dict(
    backbone=dict(arch='b', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[64, 128, 256, 512]))
