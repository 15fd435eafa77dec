# GreedyViG classifier (arXiv:2405.06849): the MobileViG classifier with the
# GreedyViG backbone (same heads, losses and batch augments; distillation
# left out in the same way).
_base_ = ['./mobilevig.py']
model = dict(
    backbone=dict(type='mmvig.GreedyViG', arch='s'),
    head=dict(in_channels=384, hidden_channels=768))
