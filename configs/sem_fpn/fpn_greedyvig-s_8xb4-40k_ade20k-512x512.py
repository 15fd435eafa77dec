# The MobileViG-M Semantic FPN settings with GreedyViG-S (the authors'
# fpn_greedyvig_s_ade20k_40k).
_base_ = './fpn_mobilevig-m_8xb4-40k_ade20k-512x512.py'
# The authors' ImageNet-1k training checkpoint (81.1 top-1, from
# https://huggingface.co/SLDGroup/GreedyViG), downloaded to checkpoints/.
pretrained = 'checkpoints/S_GreedyViG_81_1.pth'
model = dict(
    backbone=dict(
        type='mmvig.GreedyViG',
        arch='s',
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[48, 96, 192, 384]))
