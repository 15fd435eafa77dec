"""tools/analysis_tools/knn_memory.py --config: a segmentor's training step
and prediction measured in-process, and a clear error for other configs."""
import argparse
import sys

import pytest
import torch

from ..helpers import ROOT, load_tool

TOOL = 'tools/analysis_tools/knn_memory.py'
CONFIG = str(ROOT /
             'configs/sem_fpn/fpn_pvig-ti_1xb4-400_synthetic-seg-96x96.py')


def _args(**kwargs):
    return argparse.Namespace(config=CONFIG, arch=None, size=(160, 96),
                              batch=2, with_cp=False,
                              device=torch.device('cpu'), dtype='float32',
                              **kwargs)


def test_measures_a_training_step_and_a_prediction_of_the_input_size():
    tool = load_tool(TOOL)
    trained = tool.measure(_args(inference=False), 2**20)
    assert trained['backward_s'] > 0 and trained['output_shape'] == []
    predicted = tool.measure(_args(inference=True), 2**20)
    assert predicted['backward_s'] == 0
    assert predicted['output_shape'] == [96, 160]  # (H, W) of the input
    for result in (trained, predicted):
        assert result['peak_rss'] >= result['rss_before'] > 0


@pytest.mark.parametrize('argv, message', [
    (['--config',
      str(ROOT / 'configs/retinanet/retinanet_pvig-ti_fpn_1x_coco.py')],
     '--config takes an mmseg config'),
    (['--config', CONFIG, '--arch', 'tiny'],
     '--arch and --config exclude each other'),
])
def test_refuses_what_it_cannot_measure(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [TOOL] + argv)
    with pytest.raises(SystemExit) as exit_info:
        load_tool(TOOL).parse_args()
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
