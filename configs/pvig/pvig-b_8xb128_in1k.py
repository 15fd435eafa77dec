_base_ = [
    '../_base_/models/pvig.py',
    '../_base_/datasets/imagenet_bs128_vig_224.py',
    '../_base_/schedules/imagenet_bs1024_adamw_vig.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch='base', drop_path_rate=0.3),
    head=dict(in_channels=1024))

# Pyramid ViG-B is evaluated with a resize to 235 (crop ratio 0.95).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=235,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
