# AdaptViG classifier (arXiv:2511.09942): the MobileViG classifier with the
# AdaptViG backbone (same heads, losses and batch augments; distillation
# left out in the same way).
_base_ = ['./mobilevig.py']
model = dict(
    backbone=dict(type='mmvig.AdaptViG', arch='s'),
    head=dict(in_channels=256, hidden_channels=768))
