"""tools/train.py --resume after the run was killed with SIGKILL."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmvig.checkpoint import load_file
from ..helpers import ROOT
from .conftest import DIGITS_CONFIG, small_digits_options

# 96 images, batch 32: 3 iterations per epoch; one checkpoint per epoch.
EPOCHS = 3


def _train_command(work_dir, options, *extra):
    return [sys.executable, str(ROOT / 'tools' / 'train.py'),
            str(DIGITS_CONFIG), '--work-dir', str(work_dir), '--no-validate',
            *extra, '--cfg-options', *options]


@pytest.mark.slow
def test_resume_after_sigkill_ends_with_the_same_weights(digits_root,
                                                         tmp_path):
    options = small_digits_options(
        digits_root, train=96, batch=32, epochs=EPOCHS, validate=False) + [
            'randomness.seed=0', 'randomness.deterministic=True']
    reference, killed = tmp_path / 'reference', tmp_path / 'killed'

    result = subprocess.run(_train_command(reference, options), cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    # Kill the second run once its first checkpoint is complete (mmengine
    # writes last_checkpoint after the checkpoint itself).
    process = subprocess.Popen(
        _train_command(killed, options), cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while not (killed / 'last_checkpoint').is_file():
            assert process.poll() is None, 'training ended before its kill'
            assert time.monotonic() < deadline, 'no checkpoint in 10 min'
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert not (killed / f'epoch_{EPOCHS}.pth').exists()

    result = subprocess.run(
        _train_command(killed, options, '--resume'), cwd=ROOT,
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    resumed_from = result.stdout + result.stderr
    assert 'resumed epoch: ' in resumed_from
    assert f'resumed epoch: {EPOCHS}' not in resumed_from

    expected = load_file(str(reference / f'epoch_{EPOCHS}.pth'))
    actual = load_file(str(killed / f'epoch_{EPOCHS}.pth'))
    assert expected['meta']['epoch'] == actual['meta']['epoch'] == EPOCHS
    assert expected['state_dict'].keys() == actual['state_dict'].keys()
    for name, value in expected['state_dict'].items():
        assert torch.equal(value, actual['state_dict'][name]), name
