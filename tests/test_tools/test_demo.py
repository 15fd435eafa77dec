"""The README's main job, end to end: tools/run_demo.sh (``make demo``)."""
import json
import os
import re

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from ..helpers import ROOT, run_tool
from .conftest import DIGITS_CONFIG


@pytest.mark.slow
def test_main_job_learns_the_digits(tmp_path):
    work_dir = tmp_path / 'digits'
    result = run_tool('tools/run_demo.sh',
                      env=dict(os.environ, WORK_DIR=str(work_dir)),
                      timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]

    # Training showed its progress and evaluated every epoch.
    assert re.search(r'Epoch\(train\) +\[1\]\[ *5/\d+\].*eta: ', output)
    epochs = Config.fromfile(DIGITS_CONFIG).train_cfg.max_epochs
    assert f'Epoch(val) [{epochs}]' in output
    accuracy = json.loads(
        (work_dir / 'test_metrics.json').read_text())['accuracy/top1']
    assert accuracy >= 97, accuracy

    # The demo classified its image (a 3) and printed the top 5.
    ranks = re.findall(r'^  (\d)\. (\d) +(\d\.\d{4})$', result.stdout, re.M)
    assert [int(r[0]) for r in ranks] == [1, 2, 3, 4, 5]
    assert ranks[0][1] == '3'
    scores = [float(r[2]) for r in ranks]
    assert scores == sorted(scores, reverse=True)

    # The graph picture: two panels drawn over the digit.
    image = np.asarray(Image.open(work_dir / 'knn_graph.png').convert('RGB'))
    assert image.shape[0] >= 300 and image.shape[1] >= 600
    red = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)
    assert red[:, :image.shape[1] // 2].any() and \
        red[:, image.shape[1] // 2:].any()

    # No warning of mmvig's twice; none about shrunk graphs (the model is
    # built for the 32x32 digits).
    warnings = re.findall(r'mmvig/\S+:\d+: \w*Warning: .*', output)
    assert len(warnings) == len(set(warnings)), warnings
    assert 'fewer graph keys' not in output

    # Mixed precision and the trained model's graphs (docs/robustness.md):
    # under float16 autocast (GPU AMP) each block builds the float32 model's
    # graph on at least 99% of nodes, and ranking in float32 never loses to
    # ranking in the low precision.
    checkpoint = work_dir / (work_dir / 'last_checkpoint').read_text().strip(
    ).rsplit('/', 1)[-1]
    result = run_tool('tools/analysis_tools/amp_graph_agreement.py',
                      DIGITS_CONFIG, checkpoint, ROOT / 'data/digits/val',
                      '--max-images', 120)
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout)
    rows = {(scope, dtype): (float(ours), float(low)) for scope, dtype, ours,
            low in re.findall(r'^(per block|end to end) +(\w+) +([\d.]+)% +'
                              r'([\d.]+)%$', result.stdout, re.M)}
    assert len(rows) == 4, result.stdout
    assert rows[('per block', 'float16')][0] >= 99, result.stdout
    assert all(ours >= low for ours, low in rows.values()), result.stdout
