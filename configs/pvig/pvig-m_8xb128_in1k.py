_base_ = [
    '../_base_/models/pvig.py',
    '../_base_/datasets/imagenet_bs128_vig_224.py',
    '../_base_/schedules/imagenet_bs1024_adamw_vig.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch='medium'),
    head=dict(in_channels=768))
