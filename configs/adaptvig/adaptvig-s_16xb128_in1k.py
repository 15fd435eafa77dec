# AdaptViG-S on ImageNet-1k as the authors trained it: 16 GPUs x 128
# images, lr 2e-3 per 1024 images scaled linearly to 4e-3 (--auto-scale-lr
# rescales it for other batches).
_base_ = [
    '../_base_/models/adaptvig.py',
    '../_base_/datasets/imagenet_bs128_mobilevig_224.py',
    '../_base_/schedules/imagenet_bs1024_adamw_mobilevig.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch='s'),
    head=dict(in_channels=256, hidden_channels=768))
optim_wrapper = dict(optimizer=dict(lr=4e-3))
auto_scale_lr = dict(base_batch_size=2048)
