# MobileViGv2 classifier (arXiv:2406.05850): the MobileViG classifier with
# the MobileViGv2 backbone (same heads, losses and batch augments;
# distillation left out in the same way).
_base_ = ['./mobilevig.py']
model = dict(
    backbone=dict(type='mmvig.MobileViGv2', arch='ti'),
    head=dict(in_channels=256, hidden_channels=512))
