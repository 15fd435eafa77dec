# MobileViG classifier (arXiv:2307.00395): the backbone, then the authors'
# two heads (class and distillation, averaged at inference) on a 1x1-conv
# embedding. Training losses and batch augments of its recipe: label
# smoothing 0.1, Mixup 0.8, CutMix 1.0, stochastic depth 0.1. The RegNetY-16GF
# teacher of the authors' hard distillation is left out: both heads learn
# from the labels (see mmvig.DistilledViGClsHead).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmvig.MobileViG', arch='ti', drop_path_rate=0.1),
    head=dict(
        type='mmvig.DistilledViGClsHead',
        num_classes=1000,
        in_channels=256,
        hidden_channels=512,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]),
)
