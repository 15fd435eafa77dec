"""Train a model from an OpenMMLab config (mmpretrain or mmdet).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]]
        [--amp] [--no-validate] [--auto-scale-lr] [--cfg-options K=V ...]
        [--launcher {none,pytorch,slurm,mpi}]

Distributed: ``tools/dist_train.sh CONFIG NUM_PROCS``; without CUDA the
processes use gloo on the CPU.
"""
import argparse
import sys

import torch

from mmvig.checkpoint import CheckpointError
from mmvig.launch import add_shared_args, build_runner, prepare_config


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint (path or http(s) URL); without a '
        'value, from the latest checkpoint in the work directory')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic-mixed-precision training (float16 with loss '
        'scaling on GPUs, bfloat16 autocast on CPUs)')
    parser.add_argument(
        '--no-validate', action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by the actual batch size over '
        'auto_scale_lr.base_batch_size')
    add_shared_args(parser)
    return parser.parse_args()


def merge_args(cfg, args):
    """Apply the training-only options (before ``--cfg-options``)."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp and torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    elif args.amp:  # mmengine's AmpOptimWrapper needs a GPU
        cfg.optim_wrapper.type = 'mmvig.CPUAmpOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError(
                f'--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                f'{args.config}')
        cfg.auto_scale_lr.enable = True


def main():
    args = parse_args()
    try:
        cfg = prepare_config(
            args, ['train_dataloader', 'val_dataloader', 'test_dataloader'],
            merge=lambda cfg: merge_args(cfg, args))
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    runner = build_runner(cfg)
    try:
        runner.train()
    except CheckpointError as err:  # e.g. --resume of an unsafe file
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
