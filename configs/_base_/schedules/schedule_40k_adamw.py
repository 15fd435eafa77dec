# mmseg's 40k schedule with the Semantic FPN protocol of PVT and PoolFormer:
# AdamW, lr 2e-4, weight decay 1e-4, poly decay (power 0.9) to 0 over 40k
# iterations of 32 images.
_base_ = 'mmseg::_base_/schedules/schedule_40k.py'

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        begin=0,
        end=40000,
        by_epoch=False)
]
# 4 GPUs x 8 images; `--auto-scale-lr` rescales lr for other batch sizes.
auto_scale_lr = dict(enable=False, base_batch_size=32)
