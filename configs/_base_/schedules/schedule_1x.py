# mmdet's 1x schedule (12 epochs, lr x0.1 after epochs 8 and 11) with the
# optimiser mmdet uses for transformer-like backbones (Swin): AdamW, lr 1e-4
# for 16 images per iteration, weight decay 0.05 except on norm layers and the
# position embedding, and 1000 warm-up iterations.
_base_ = 'mmdet::_base_/schedules/schedule_1x.py'

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
    optimizer=dict(
        _delete_=True,
        type='AdamW', lr=0.0001, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0., custom_keys={'pos_embed': dict(decay_mult=0.)}))
