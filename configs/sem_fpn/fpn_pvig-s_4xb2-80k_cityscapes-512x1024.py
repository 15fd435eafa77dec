# Semantic FPN with an ImageNet-pretrained Pyramid ViG-S on Cityscapes:
# 512x1024 crops, 4 GPUs x 2 images, the Semantic FPN optimiser (AdamW
# lr 2e-4, poly) over 80k iterations; the 2048x1024 test images are
# predicted in overlapping 512x1024 windows.
_base_ = [
    '../_base_/models/fpn_pvig-s.py', 'mmseg::_base_/datasets/cityscapes.py',
    '../_base_/schedules/schedule_40k_adamw.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (512, 1024)
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/pyramid-vig/pvig_s_82.1.pth.tar'  # noqa
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    decode_head=dict(num_classes=19),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(384, 768)))
train_dataloader = dict(batch_size=2)

max_iters = 80000
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
auto_scale_lr = dict(base_batch_size=8)
