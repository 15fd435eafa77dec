# Semantic FPN on ADE20K with MobileViG / GreedyViG backbones, as GreedyViG's
# authors trained theirs (mmseg 0.x): 8 GPUs x 4 images, 512x512 crops,
# AdamW lr 2e-4, weight decay 1e-4, poly, 40k iterations; the EMA weights of
# the ImageNet checkpoint; BN trained with SyncBN (their backbone's
# BN-freezing train() misses the SyncBatchNorm layers it converted to).
_base_ = [
    '../_base_/models/fpn_pvig-s.py', 'mmseg::_base_/datasets/ade20k.py',
    '../_base_/schedules/schedule_40k_adamw.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (512, 512)
# The authors' ImageNet-1k training checkpoint (80.6 top-1, from
# https://huggingface.co/SLDGroup/MobileViG), downloaded to checkpoints/.
pretrained = 'checkpoints/MobileViG_M_80_7.pth.tar'
model = dict(
    # timm's ImageNet mean and std on RGB, as the backbone was trained.
    data_preprocessor=dict(
        size=crop_size,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        _delete_=True,
        type='mmvig.MobileViG',
        arch='m',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        norm_cfg=dict(type='SyncBN'),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, ema=True)),
    neck=dict(in_channels=[42, 84, 224, 400]))
train_dataloader = dict(batch_size=4)
