# Semantic FPN with an ImageNet-pretrained Pyramid ViG-S on ADE20K: the
# protocol of PVT and PoolFormer (512x512 crops, 4 GPUs x 8 images, AdamW
# lr 2e-4, poly, 40k iterations).
_base_ = [
    '../_base_/models/fpn_pvig-s.py', 'mmseg::_base_/datasets/ade20k.py',
    '../_base_/schedules/schedule_40k_adamw.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (512, 512)
# The authors' ImageNet-1k weights (82.1 top-1); mmpretrain's converted file
# or a local path works as well.
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/pyramid-vig/pvig_s_82.1.pth.tar'  # noqa
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
train_dataloader = dict(batch_size=8)
