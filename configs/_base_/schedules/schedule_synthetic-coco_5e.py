# The short from-scratch schedule of the synthetic-COCO check
# (tests/test_detection/test_synthetic_training.py): 5 epochs of 50
# iterations, lr 1e-3, x0.1 for the last epoch; one checkpoint at the end.
# It sets hooks too, so it brings the runtime with it.
_base_ = ['./schedule_1x.py', 'mmdet::_base_/default_runtime.py']

max_epochs = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        milestones=[4],
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
randomness = dict(seed=0)  # reproducible numbers in docs/detection.md
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs),
    visualization=dict(draw=False))
