# MobileViG-B on ImageNet-1k: 8 GPUs x 128 images (lr 2e-3 is the
# authors' for batch 1024; --auto-scale-lr rescales it for other batches).
_base_ = [
    '../_base_/models/mobilevig.py',
    '../_base_/datasets/imagenet_bs128_mobilevig_224.py',
    '../_base_/schedules/imagenet_bs1024_adamw_mobilevig.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch='b'),
    head=dict(in_channels=464, hidden_channels=768))
