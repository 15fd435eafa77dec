"""tools/test.py: the authors' released layout by URL, and weights-only
loading."""
import os
import textwrap

import pytest
import torch
from mmpretrain.models.backbones import PyramidVig

from ..test_models.vig_reference import authors_layout, random_authors_head
from ..helpers import ROOT, LocalHTTPServer, run_tool
from .conftest import DIGITS_CONFIG, small_digits_options


@pytest.mark.slow
def test_authors_file_by_url_loads_into_the_imagenet_config(
        digits_root, tmp_path):
    # A file in the layout of the authors' pvig_ti_78.5.pth.tar (random
    # weights: the released ones cannot be downloaded here).
    depths = [2, 2, 6, 2]
    head = random_authors_head(384)
    served = tmp_path / 'served'
    served.mkdir()
    torch.save(authors_layout(PyramidVig('tiny').state_dict(), depths, head),
               served / 'pvig_ti_78.5.pth.tar')
    # The ImageNet config, tested on a few digits instead of ImageNet.
    config = tmp_path / 'pvig-ti_in1k_on_digits.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = '{ROOT}/configs/pvig/pvig-ti_8xb128_in1k.py'
        test_dataloader = dict(
            batch_size=8,
            dataset=dict(_delete_=True, type='CustomDataset',
                         data_root='{digits_root}', data_prefix='val',
                         indices=8, pipeline={{{{_base_.test_pipeline}}}}))
    '''))
    with LocalHTTPServer(served) as server:
        result = run_tool('tools/test.py', config,
                          f'{server.url}/pvig_ti_78.5.pth.tar', '--work-dir',
                          tmp_path / 'work', '--out', tmp_path / 'preds.pkl',
                          env=dict(os.environ,
                                   TORCH_HOME=str(tmp_path / 'torch_home')))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert 'converted authors ViG keys to mmvig names, dropped 12 fixed ' \
        'relative_pos buffers' in output
    # Every weight found its place (mmengine reports any mismatch).
    assert 'do not match exactly' not in output
    assert (tmp_path / 'preds.pkl').is_file()


class _RunsCode:
    """Unpickling this runs ``touch MARKER``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.mark.slow
def test_refuses_a_checkpoint_that_runs_code(digits_root, tmp_path):
    marker = tmp_path / 'code_ran'
    crafted = tmp_path / 'crafted.pth'
    torch.save({'state_dict': {}, 'meta': _RunsCode(marker)}, crafted)
    result = run_tool(
        'tools/test.py', DIGITS_CONFIG, crafted, '--work-dir',
        tmp_path / 'work', '--cfg-options',
        *small_digits_options(digits_root, test=32), timeout=600)
    assert result.returncode == 1
    assert f'error: refused to load {crafted}' in result.stderr
    assert 'system' in result.stderr  # names the offending global
    assert not marker.exists()
