"""Fixtures of the segmentation tests: the synthetic segmentation dataset in
a workspace the tools run in."""
import os
import subprocess
import sys

import pytest

from ..helpers import ROOT


@pytest.fixture(scope='session')
def synthetic_seg_workspace(tmp_path_factory):
    """``(root, env)``: ``root`` holds ``data/synthetic_seg`` (the config's
    data_root is relative, so the tools run there), ``env`` is the tools'
    environment."""
    root = tmp_path_factory.mktemp('synthetic_seg')
    env = dict(os.environ,
               # One thread per process: on a loaded 2-core machine two
               # OpenMP threads waiting on each other slowed training 4x.
               OMP_NUM_THREADS='1',
               TORCH_HOME=str(root / 'torch'))  # URL downloads land here
    subprocess.run(
        [sys.executable,
         str(ROOT / 'tools/dataset_converters/synthetic_seg.py'),
         str(root / 'data/synthetic_seg')], check=True, capture_output=True,
        timeout=120)
    return root, env
