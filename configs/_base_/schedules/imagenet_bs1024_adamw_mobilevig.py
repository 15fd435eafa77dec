# MobileViG's and GreedyViG's schedule (their main.py): ViG's (AdamW, weight
# decay 0.05, 20 warm-up epochs then cosine to 1e-5, 300 epochs, EMA
# 0.99996) with lr 2e-3 per 1024 images, scaled linearly with the batch;
# warm-up from 1e-6.
_base_ = ['./imagenet_bs1024_adamw_vig.py']

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 2e-3,
        by_epoch=True,
        end=20,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=20,
        end=300,
        convert_to_iter_based=True),
]
