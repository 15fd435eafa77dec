_base_ = './fpn_pvig-s_4xb8-40k_ade20k-512x512.py'
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/pyramid-vig/pvig_b_83.66.pth.tar'  # noqa
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,  # as in its ImageNet training
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[128, 256, 512, 1024]))
