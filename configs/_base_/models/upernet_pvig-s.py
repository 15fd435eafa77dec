# UperNet (Xiao et al., ECCV 2018) on a Pyramid ViG-S with an auxiliary FCN
# head on the stride-16 output, as mmseg trains Swin Transformer.
# 150 classes (ADE20K).
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
        drop_path_rate=0.3,
        # BatchNorm statistics re-estimated across GPUs (2 images each).
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='UPerHead',
        in_channels=[80, 160, 400, 640],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=400,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
