# AdaptViG-M on ImageNet-1k: the AdaptViG-S recipe (the authors' 16 GPUs x 128
# images, lr 4e-3).
_base_ = './adaptvig-s_16xb128_in1k.py'

model = dict(
    backbone=dict(arch='m'),
    head=dict(in_channels=320, hidden_channels=768))
