# PViG-Ti Semantic FPN trained from scratch on the synthetic shapes dataset of
# tools/dataset_converters/synthetic_seg.py in a few CPU minutes
# (tests/test_segmentation/test_synthetic_training.py): a narrower neck and
# head, plain BatchNorm (CPU-only distributed runs cannot use SyncBN), AdamW
# lr 2e-3 with poly decay over 400 iterations of 4 images, a fixed seed.
_base_ = [
    '../_base_/models/fpn_pvig-s.py', '../_base_/datasets/synthetic_seg.py',
    '../_base_/schedules/schedule_40k_adamw.py',
    'mmseg::_base_/default_runtime.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(96, 96)),
    backbone=dict(arch='tiny', drop_path_rate=0., norm_cfg=norm_cfg),
    neck=dict(in_channels=[48, 96, 240, 384], out_channels=64),
    decode_head=dict(
        in_channels=[64, 64, 64, 64],
        channels=64,
        dropout_ratio=0.,
        num_classes=4,
        norm_cfg=norm_cfg))
train_dataloader = dict(batch_size=4)

max_iters = 400
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters),
    visualization=dict(draw=False))
auto_scale_lr = dict(base_batch_size=4)
randomness = dict(seed=0)  # reproducible numbers in docs/segmentation.md
