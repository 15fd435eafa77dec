# MobileViGv2-M on ImageNet-1k: the MobileViGv2-Ti recipe (the authors'
# 16 GPUs x 128 images, lr 4e-3).
_base_ = './mobilevigv2-ti_16xb128_in1k.py'

model = dict(
    backbone=dict(arch='m'),
    head=dict(in_channels=384, hidden_channels=512))
