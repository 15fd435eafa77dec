"""tools/dist_train.sh and tools/dist_test.sh with two processes on the CPU
(gloo), the test fetching its checkpoint by URL."""
import json

import pytest

from ..helpers import LocalHTTPServer, run_tool, torchrun_env
from .conftest import DIGITS_CONFIG, small_digits_options


def _env(tmp_path):
    return torchrun_env(TORCH_HOME=str(tmp_path / 'torch_home'))


@pytest.mark.slow
def test_dist_train_then_dist_test_by_url(digits_root, tmp_path):
    work_dir = tmp_path / 'work'
    # 96 images over 2 ranks x 16 per batch: 3 iterations per epoch.
    options = small_digits_options(digits_root, train=96, test=64, batch=16,
                                   epochs=1, validate=False)
    result = run_tool('tools/dist_train.sh', DIGITS_CONFIG, 2, '--work-dir',
                      work_dir, '--no-validate', '--cfg-options', *options,
                      env=_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for rank in (0, 1):
        assert f'rank {rank} of 2: no CUDA device, running on the CPU with ' \
            f'the gloo backend' in output
    # Each rank saw half the images: 48 / 16 = 3 iterations. DDP all-reduces
    # the gradients of every iteration, so rank 0 finishing all of them
    # needs rank 1 to have trained them too.
    assert 'Epoch(train) [1][3/3]' in output
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file()

    with LocalHTTPServer(work_dir) as server:
        url = f'{server.url}/epoch_1.pth'
        metrics = tmp_path / 'metrics.json'
        result = run_tool(
            'tools/dist_test.sh', DIGITS_CONFIG, url, 2, '--work-dir',
            tmp_path / 'test', '--out', metrics, '--out-item', 'metrics',
            '--cfg-options', *options, env=_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # Downloaded once (by rank 0), into the hub cache of TORCH_HOME.
    assert server.requests.count('/epoch_1.pth') == 1
    assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
            'epoch_1.pth').is_file()
    # 64 test images over 2 ranks x 16: 2 iterations each.
    assert 'Epoch(test) [2/2]' in output
    accuracy = json.loads(metrics.read_text())['accuracy/top1']
    assert 0 <= accuracy <= 100
