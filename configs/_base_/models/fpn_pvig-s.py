# Semantic FPN (Kirillov et al., CVPR 2019) on a Pyramid ViG-S: the four
# stage outputs (strides 4, 8, 16, 32) into an FPN, whose levels FPNHead
# brings to stride 4 and sums, as PVT and PoolFormer evaluate backbones.
# 150 classes (ADE20K); the Cityscapes config sets 19.
custom_imports = dict(imports=['mmvig'], allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
# ViG's ImageNet preprocessing: mean = std = 127.5 on RGB.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmvig.PyramidViG',
        arch='small',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        # 8 images per GPU: BatchNorm statistics are re-estimated, across
        # GPUs, as mmseg does for ResNet backbones.
        norm_cfg=norm_cfg),
    neck=dict(
        type='FPN',
        in_channels=[80, 160, 400, 640],
        out_channels=256,
        num_outs=4),
    decode_head=dict(
        type='FPNHead',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
