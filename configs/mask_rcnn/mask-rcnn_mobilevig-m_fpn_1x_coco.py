_base_ = [
    '../_base_/models/mask-rcnn_pvig-s_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]
# The authors' ImageNet-1k training checkpoint (80.6 top-1, from
# https://huggingface.co/SLDGroup/MobileViG), downloaded to checkpoints/;
# its EMA weights (state_dict_ema), which the authors' detectors load.
pretrained = 'checkpoints/MobileViG_M_80_7.pth.tar'
model = dict(
    # timm's ImageNet mean and std on RGB, as the backbone was trained.
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(
        _delete_=True,
        type='mmvig.MobileViG',
        arch='m',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        # The authors' detectors train the BN layers, synchronised across
        # GPUs: their backbone converts every BN to SyncBatchNorm, so its
        # train(), which puts nn.BatchNorm2d layers in eval mode, finds none.
        norm_cfg=dict(type='SyncBN'),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, ema=True)),
    neck=dict(in_channels=[42, 84, 224, 400]))
# The authors' detector optimiser: AdamW, lr 2e-4, weight decay 0.05.
optim_wrapper = dict(optimizer=dict(lr=2e-4))
