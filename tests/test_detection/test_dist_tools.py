"""tools/dist_train.sh and tools/dist_test.sh run mmdet configs: two CPU
processes (gloo) train the synthetic-COCO RetinaNet briefly, then evaluate
it fetched by URL."""
import json

import pytest

from ..helpers import ROOT, LocalHTTPServer, run_dist_tool

CONFIG = ROOT / 'configs/retinanet/retinanet_pvig-ti_fpn_synthetic-coco.py'


@pytest.mark.slow
def test_dist_train_and_dist_test_by_url(synthetic_workspace):
    root, env = synthetic_workspace
    work_dir = root / 'dist'
    # 8 training images over 2 ranks x 4 per batch: one iteration (two
    # with a single rank).
    output = run_dist_tool(
        'dist_train.sh', CONFIG, 2, '--work-dir', work_dir,
        '--no-validate', '--cfg-options', 'train_cfg.max_epochs=1',
        'train_dataloader.dataset.indices=8', cwd=root, env=env)
    assert 'Epoch(train) [1][1/1]' in output

    metrics = root / 'dist_metrics.json'
    with LocalHTTPServer(work_dir) as server:
        output = run_dist_tool(
            'dist_test.sh', CONFIG, f'{server.url}/epoch_1.pth', 2,
            '--work-dir', root / 'dist_test', '--out', metrics,
            '--out-item', 'metrics', cwd=root, env=env)
    assert server.requests.count('/epoch_1.pth') == 1  # rank 0 downloads
    # 50 validation images over 2 ranks x 4 per batch: 7 iterations each.
    assert 'Epoch(test) [7/7]' in output
    # A model trained for one iteration may detect nothing, and then
    # CocoMetric reports no numbers; the file is still written.
    assert isinstance(json.loads(metrics.read_text()), dict)
