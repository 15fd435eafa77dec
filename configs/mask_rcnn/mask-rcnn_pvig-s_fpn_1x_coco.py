_base_ = [
    '../_base_/models/mask-rcnn_pvig-s_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]
# The authors' ImageNet-1k weights (82.1 top-1); mmpretrain's converted file
# or a local path works as well.
pretrained = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/pyramid-vig/pvig_s_82.1.pth.tar'  # noqa
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
