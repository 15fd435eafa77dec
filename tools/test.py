"""Evaluate a checkpoint with an OpenMMLab config (mmpretrain or mmdet).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--out-item {metrics,pred}] [--tta] [--cfg-options K=V ...]
        [--launcher {none,pytorch,slurm,mpi}]

CHECKPOINT is a local path or an http(s) URL (downloaded once into torch's
hub cache). Checkpoints are loaded weights-only: a file that would run code
when unpickled is refused.
"""
import argparse
import os.path as osp
import sys
from copy import deepcopy

import mmengine
from mmengine.config import ConfigDict
from mmengine.evaluator import DumpResults

from mmvig.checkpoint import CheckpointError
from mmvig.launch import add_shared_args, build_runner, prepare_config


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint',
                        help='checkpoint file: a path or an http(s) URL')
    parser.add_argument('--out', help='the file to write results to')
    parser.add_argument(
        '--out-item', choices=['metrics', 'pred'],
        help='what --out holds: the metrics or the predictions (default)')
    parser.add_argument(
        '--amp', action='store_true', help='test with mixed precision')
    parser.add_argument(
        '--tta', action='store_true',
        help='test-time augmentation: the config\'s tta_model and '
        'tta_pipeline, by default the average over a horizontal flip')
    add_shared_args(parser)
    args = parser.parse_args()
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    if not args.checkpoint.startswith(('http://', 'https://')) and \
            not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint {args.checkpoint} does not exist')
    return args


def merge_args(cfg, args):
    """Apply the test-only options (before ``--cfg-options``)."""
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.tta:
        if 'tta_model' not in cfg:
            if cfg.get('default_scope') != 'mmpretrain':
                raise ValueError(
                    f'--tta needs tta_model (and tta_pipeline) in '
                    f'{args.config}')
            cfg.tta_model = dict(type='mmpretrain.AverageClsScoreTTA')
        if 'tta_pipeline' not in cfg:
            pipeline = cfg.test_dataloader.dataset.pipeline
            cfg.tta_pipeline = deepcopy(pipeline)
            cfg.tta_pipeline[-1] = dict(
                type='TestTimeAug',
                transforms=[[
                    dict(type='RandomFlip', prob=1.),
                    dict(type='RandomFlip', prob=0.)
                ], [pipeline[-1]]])
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def main():
    args = parse_args()
    try:
        cfg = prepare_config(args, ['test_dataloader'],
                             merge=lambda cfg: merge_args(cfg, args))
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    runner = build_runner(cfg)
    if args.out and args.out_item in ('pred', None):
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    try:
        metrics = runner.test()
    except CheckpointError as err:
        sys.exit(f'error: {err}')
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
