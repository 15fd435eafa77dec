# PViG-Ti Mask R-CNN trained from scratch on the synthetic shapes dataset of
# tools/dataset_converters/synthetic_coco.py in a few CPU minutes
# (tests/test_detection/test_synthetic_training.py): a narrower neck (with
# GroupNorm, as detectors trained from scratch use) and heads, fewer
# proposals, trainable BN.
_base_ = [
    '../_base_/models/mask-rcnn_pvig-s_fpn.py',
    '../_base_/datasets/synthetic_coco.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(arch='tiny', drop_path_rate=0., norm_eval=False),
    neck=dict(
        in_channels=[48, 96, 240, 384],
        out_channels=64,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(num_classes=3, in_channels=64, fc_out_channels=256),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(
            num_classes=3, num_convs=2, in_channels=64,
            conv_out_channels=64)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(max_per_img=20)))

# 5 epochs of 50 iterations, lr 1e-3 (from scratch), x0.1 for the last.
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        milestones=[4],
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
randomness = dict(seed=0)  # reproducible numbers in docs/detection.md
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs),
    visualization=dict(draw=False))
