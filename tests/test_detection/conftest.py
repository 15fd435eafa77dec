"""Fixtures of the detection tests: the synthetic COCO dataset in a
workspace the tools run in."""
import os
import subprocess
import sys
import pytest

from ..helpers import ROOT


@pytest.fixture(scope='session')
def synthetic_workspace(tmp_path_factory):
    """``(root, env)``: ``root`` holds ``data/synthetic_coco`` (the configs'
    data_root is relative, so the tools run there), ``env`` is the tools'
    environment."""
    root = tmp_path_factory.mktemp('synthetic')
    env = dict(os.environ,
               # One thread per process: two processes share the 2 cores,
               # and OpenMP threads competing for a core slow training
               # down several times.
               OMP_NUM_THREADS='1',
               TORCH_HOME=str(root / 'torch'))  # URL downloads land here
    subprocess.run(
        [sys.executable,
         str(ROOT / 'tools/dataset_converters/synthetic_coco.py'),
         str(root / 'data/synthetic_coco')], check=True, capture_output=True,
        timeout=120)
    return root, env
