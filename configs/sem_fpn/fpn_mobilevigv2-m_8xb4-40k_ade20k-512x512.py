# The MobileViG-M Semantic FPN settings with MobileViGv2-M, as the authors'
# fpn_mobilevigv2_m_ade20k_40k (8 GPUs x 4 images, AdamW 2e-4, weight
# decay 1e-4, poly, 40k iterations).
_base_ = './fpn_mobilevig-m_8xb4-40k_ade20k-512x512.py'
# The authors' ImageNet-1k training checkpoint (from
# https://huggingface.co/SLDGroup/MobileViGv2), downloaded to
# checkpoints/; its EMA weights, as the authors' detectors and segmentors
# load them.
pretrained = 'checkpoints/mobilevigv2-m_in1k.pth'
model = dict(
    backbone=dict(
        type='mmvig.MobileViGv2',
        arch='m',
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[32, 64, 192, 384]))
