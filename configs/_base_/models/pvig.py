# Pyramid ViG classifier with the paper's training losses and batch
# augments (Table 3: label smoothing 0.1, Mixup 0.8, CutMix 1.0, stochastic
# depth 0.1). The configs in configs/pvig/ choose the arch.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmvig.PyramidViG', arch='tiny', drop_path_rate=0.1),
    head=dict(
        type='mmvig.ViGClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]),
)
