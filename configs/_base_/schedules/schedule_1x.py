# The 1x detection schedule (12 epochs, lr x0.1 after epochs 8 and 11) with
# the optimiser mmdet uses for transformer-like backbones (Swin):
# AdamW, lr 1e-4 for 16 images per iteration, weight decay 0.05 except on
# norm layers and the position embedding.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=0.0001, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0., custom_keys={'pos_embed': dict(decay_mult=0.)}))

# 8 GPUs x 2 images; `--auto-scale-lr` rescales lr for other batch sizes.
auto_scale_lr = dict(enable=False, base_batch_size=16)
