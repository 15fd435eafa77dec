# UperNet with an ImageNet-pretrained Pyramid ViG-S on ADE20K: the protocol
# of Swin Transformer (512x512 crops, 8 GPUs x 2 images, AdamW lr 6e-5,
# 1500 warm-up iterations, poly, 160k iterations).
_base_ = [
    '../_base_/models/upernet_pvig-s.py', 'mmseg::_base_/datasets/ade20k.py',
    '../_base_/schedules/schedule_160k_adamw.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (512, 512)
# The authors' ImageNet-1k weights (82.1 top-1).
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/pyramid-vig/pvig_s_82.1.pth.tar'  # noqa
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
train_dataloader = dict(batch_size=2)
