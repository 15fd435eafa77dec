"""tools/dist_train.sh and tools/dist_test.sh run mmseg configs: two CPU
processes (gloo) train the synthetic-segmentation Semantic FPN briefly, then
evaluate it fetched by URL."""
import json

import pytest

from ..helpers import ROOT, LocalHTTPServer, run_dist_tool

CONFIG = ROOT / 'configs/sem_fpn/fpn_pvig-ti_1xb4-400_synthetic-seg-96x96.py'


@pytest.mark.slow
def test_dist_train_and_dist_test_by_url(synthetic_seg_workspace):
    root, env = synthetic_seg_workspace
    work_dir = root / 'dist'
    output = run_dist_tool(
        'dist_train.sh', CONFIG, 2, '--work-dir', work_dir,
        '--no-validate', '--cfg-options', 'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', cwd=root, env=env)
    assert 'Iter(train) [2/2]' in output

    metrics = root / 'dist_metrics.json'
    with LocalHTTPServer(work_dir) as server:
        output = run_dist_tool(
            'dist_test.sh', CONFIG, f'{server.url}/iter_2.pth', 2,
            '--work-dir', root / 'dist_test', '--out', metrics,
            '--out-item', 'metrics', cwd=root, env=env)
    assert server.requests.count('/iter_2.pth') == 1  # rank 0 downloads
    # 50 validation images over 2 ranks, one per batch.
    assert 'Iter(test) [25/25]' in output
    assert set(json.loads(metrics.read_text())) >= {'aAcc', 'mIoU', 'mAcc'}
