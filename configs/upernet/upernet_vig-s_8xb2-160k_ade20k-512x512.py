# Isotropic ViG-S in UperNet, as mmseg trains ViT: the outputs of blocks 4,
# 8, 12 and 16 (all stride 16) rescaled by MultiLevelNeck to strides 4, 8,
# 16 and 32; the auxiliary head on the last block.
_base_ = './upernet_pvig-s_8xb2-160k_ade20k-512x512.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
# The authors' ImageNet-1k weights (80.6 top-1).
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/vig/vig_s_80.6.pth'  # noqa
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvig.ViG',
        arch='small',
        out_indices=(3, 7, 11, 15),
        drop_path_rate=0.1,
        norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(
        type='MultiLevelNeck',
        in_channels=[320, 320, 320, 320],
        out_channels=320,
        scales=[4, 2, 1, 0.5]),
    decode_head=dict(in_channels=[320, 320, 320, 320]),
    auxiliary_head=dict(in_channels=320, in_index=3))
