_base_ = './upernet_pvig-s_8xb2-160k_ade20k-512x512.py'
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/pyramid-vig/pvig_m_83.1.pth.tar'  # noqa
model = dict(
    backbone=dict(
        arch='medium', init_cfg=dict(type='Pretrained',
                                     checkpoint=pretrained)),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384))
