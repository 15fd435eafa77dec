# Pyramid ViG-Ti trained from scratch on the digits, on a CPU. Prepare the
# data with `python tools/dataset_converters/prepare_digits.py`.
_base_ = [
    '../_base_/models/pvig.py',
    '../_base_/datasets/digits_bs64.py',
    '../_base_/default_runtime.py',
]

# At 32x32 the stage grids are 8x8, 4x4, 2x2 and 1x1 nodes: the keys are not
# pooled (every node is a key), no dilation (the grids are too small for it)
# and no stochastic depth for a model this small.
model = dict(
    backbone=dict(
        arch='tiny',
        train_size=32,
        reduce_ratios=(1, 1, 1, 1),
        use_dilation=False,
        drop_path_rate=0.),
    head=dict(num_classes=10, in_channels=384),
    train_cfg=dict(_delete_=True),
)

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=8,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=8, val_interval=1)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
)
randomness = dict(seed=0)
