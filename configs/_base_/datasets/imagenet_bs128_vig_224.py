# mmpretrain's ImageNet-1k settings for ViG (paper Table 3, DeiT-style:
# RandAugment rand-m9-mstd0.5-inc1, random erasing 0.25; mean = std = 127.5;
# test: bicubic resize of the short side to 248, centre crop 224), with the
# paper's repeated augmentation and 8 loader workers.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs128_vig_224.py'

train_dataloader = dict(
    num_workers=8, sampler=dict(type='RepeatAugSampler', num_repeats=3))
val_dataloader = dict(num_workers=8)
test_dataloader = dict(num_workers=8)
