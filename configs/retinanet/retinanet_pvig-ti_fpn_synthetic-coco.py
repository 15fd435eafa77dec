# PViG-Ti RetinaNet trained from scratch on the synthetic shapes dataset of
# tools/dataset_converters/synthetic_coco.py in a few CPU minutes
# (tests/test_detection/test_synthetic_training.py): a narrower neck and head
# with GroupNorm (as detectors trained from scratch use), trainable BN.
_base_ = [
    '../_base_/models/retinanet_pvig-s_fpn.py',
    '../_base_/datasets/synthetic_coco.py',
    '../_base_/schedules/schedule_synthetic-coco_5e.py'
]
norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    backbone=dict(arch='tiny', drop_path_rate=0., norm_eval=False),
    neck=dict(
        in_channels=[48, 96, 240, 384], out_channels=64, norm_cfg=norm_cfg),
    bbox_head=dict(
        num_classes=3,
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        norm_cfg=norm_cfg))

val_evaluator = dict(metric='bbox')
test_evaluator = val_evaluator
