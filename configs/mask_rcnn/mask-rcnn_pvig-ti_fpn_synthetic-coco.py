# PViG-Ti Mask R-CNN trained from scratch on the synthetic shapes dataset of
# tools/dataset_converters/synthetic_coco.py in a few CPU minutes
# (tests/test_detection/test_synthetic_training.py): a narrower neck (with
# GroupNorm, as detectors trained from scratch use) and heads, fewer
# proposals, trainable BN.
_base_ = [
    '../_base_/models/mask-rcnn_pvig-s_fpn.py',
    '../_base_/datasets/synthetic_coco.py',
    '../_base_/schedules/schedule_synthetic-coco_5e.py'
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
