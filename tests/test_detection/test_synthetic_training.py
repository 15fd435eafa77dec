"""End to end on CPU: the synthetic-COCO detectors learn.

``tools/train.py`` trains the small PViG-Ti RetinaNet and Mask R-CNN from
scratch for a few minutes; ``tools/test.py`` then evaluates each trained
checkpoint and the untrained model, both given as http URLs served from
127.0.0.1, with mmdet's CocoMetric on the validation split.
"""
import os
import pickle
import subprocess
import sys
import tempfile

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..helpers import ROOT, LocalHTTPServer
CASES = {
    'retinanet': ('configs/retinanet/retinanet_pvig-ti_fpn_synthetic-coco.py',
                  ['bbox']),
    'mask_rcnn': ('configs/mask_rcnn/mask-rcnn_pvig-ti_fpn_synthetic-coco.py',
                  ['bbox', 'segm']),
}


def _run_all(commands, cwd, env, timeout):
    """Run Python scripts side by side (one per core) and wait for all; their
    output goes to files, which a pipe left unread could block on."""
    procs = []
    for args in commands:
        log = tempfile.TemporaryFile('w+')
        procs.append((args, log, subprocess.Popen(
            [sys.executable, *map(str, args)], cwd=cwd, env=env, stdout=log,
            stderr=subprocess.STDOUT)))
    for args, log, proc in procs:
        proc.wait(timeout=timeout)
        log.seek(0)
        output = log.read()
        log.close()
        assert proc.returncode == 0, f'{args}:\n{output[-4000:]}'


@pytest.fixture(scope='module')
def trained(synthetic_workspace):
    """Both detectors trained side by side: ``{case: checkpoint}``."""
    root, env = synthetic_workspace
    commands, checkpoints = [], {}
    for case, (config, _) in CASES.items():
        work_dir = root / 'work' / case
        commands.append([ROOT / 'tools/train.py', ROOT / config,
                         '--work-dir', work_dir, '--no-validate'])
        epochs = Config.fromfile(ROOT / config).train_cfg.max_epochs
        checkpoints[case] = work_dir / f'epoch_{epochs}.pth'
    _run_all(commands, root, env, 1200)
    return checkpoints


def _save_untrained(config, path):
    """The model as training starts: built from the config, initialised."""
    cfg = Config.fromfile(config)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)


def _map(metrics, metric):
    # CocoMetric returns no metrics when a model detects nothing at all, as
    # an untrained RetinaNet may: its scores start near 0.01 < score_thr.
    return metrics.get(f'coco/{metric}_mAP', 0.)


@pytest.mark.slow
@pytest.mark.parametrize('case', CASES)
def test_detector_learns_synthetic_coco(case, synthetic_workspace, trained):
    config, metrics = CASES[case]
    root, env = synthetic_workspace
    checkpoints = dict(trained=root / f'{case}_trained.pth',
                       untrained=root / f'{case}_untrained.pth')
    # Served under its own name: torch's hub cache keys downloads by file
    # name, and both work dirs hold an epoch_5.pth.
    os.link(trained[case], checkpoints['trained'])
    _save_untrained(ROOT / config, checkpoints['untrained'])

    results = {name: root / f'{case}_{name}.pkl' for name in checkpoints}
    with LocalHTTPServer(root) as server:
        _run_all([[
            ROOT / 'tools/test.py', ROOT / config,
            f'{server.url}/{checkpoints[name].name}', '--work-dir',
            root / 'test' / f'{case}_{name}', '--out', results[name],
            '--out-item', 'metrics'
        ] for name in checkpoints], root, env, 600)
    assert sorted(server.requests) == sorted(
        f'/{path.name}' for path in checkpoints.values())
    for name, path in results.items():
        with open(path, 'rb') as f:
            results[name] = pickle.load(f)

    for metric in metrics:
        after = _map(results['trained'], metric)
        before = _map(results['untrained'], metric)
        print(f'{case} {metric} mAP: untrained {before:.3f}, '
              f'trained {after:.3f}')
        # Measured about 0.25 after training and 0.00 before.
        assert after >= 0.15, (metric, after)
        assert after >= before + 0.1, (metric, before, after)
