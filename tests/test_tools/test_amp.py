"""tools/train.py --amp: mixed-precision training through mmengine's optim
wrapper; on a machine without a GPU, bfloat16 autocast
(mmvig.CPUAmpOptimWrapper). The graph's agreement with the float32 model is
measured on the digits demo's trained model in test_demo.py."""
import math
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmvig.checkpoint import load_file
from mmvig.engine import CPUAmpOptimWrapper

from ..helpers import ROOT
from .conftest import DIGITS_CONFIG, small_digits_options


@pytest.mark.slow
def test_amp_training_gives_finite_losses_and_a_loadable_checkpoint(
        digits_root, tmp_path):
    # 32 images, batch 16: two iterations, each logged.
    options = small_digits_options(digits_root, train=32, batch=16, epochs=1,
                                   validate=False)
    result = subprocess.run(
        [sys.executable, str(ROOT / 'tools/train.py'), str(DIGITS_CONFIG),
         '--amp', '--no-validate', '--work-dir', str(tmp_path),
         '--cfg-options', *options, 'default_hooks.logger.interval=1'],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    if not torch.cuda.is_available():
        assert "type='mmvig.CPUAmpOptimWrapper'" in output
    losses = [float(v) for v in re.findall(r'\]  .* loss: ([-\w.]+)', output)]
    assert len(losses) == 2 and all(map(math.isfinite, losses)), losses

    checkpoint = load_file(str(tmp_path / 'epoch_1.pth'))
    assert 'loss_scaler' not in checkpoint['optimizer']
    init_default_scope('mmpretrain')
    model = MODELS.build(Config.fromfile(DIGITS_CONFIG).model)
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert all(torch.isfinite(v).all() for v in checkpoint['state_dict'].values()
               if v.is_floating_point())


def test_cpu_amp_wrapper_autocasts_to_bfloat16_and_drops_a_loss_scaler():
    model = torch.nn.Linear(4, 2)
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    state = wrapper.state_dict()
    wrapper.load_state_dict(dict(state, loss_scaler={'scale': 65536.}))
    with pytest.raises(ValueError, match='bfloat16 only, got dtype=.float16'):
        CPUAmpOptimWrapper(dtype='float16', optimizer=torch.optim.SGD(
            model.parameters(), lr=0.1))
