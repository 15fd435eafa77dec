# mmseg's 160k schedule with the UperNet protocol of Swin Transformer: AdamW,
# lr 6e-5, betas (0.9, 0.999), weight decay 0.01 except on norm layers and
# the position embedding, 1500 iterations of linear warm-up, then poly decay
# (power 1, as Swin) to 160k iterations of 16 images.
_base_ = 'mmseg::_base_/schedules/schedule_160k.py'

optim_wrapper = dict(
    optimizer=dict(
        _delete_=True,
        type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0., custom_keys={'pos_embed': dict(decay_mult=0.)}))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=1500),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        begin=1500,
        end=160000,
        by_epoch=False)
]
# 8 GPUs x 2 images; `--auto-scale-lr` rescales lr for other batch sizes.
auto_scale_lr = dict(enable=False, base_batch_size=16)
