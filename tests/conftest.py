import os

import pytest
import torch

# Under pytest-xdist (`make test` runs two workers on the two cores) each
# worker and the tools it launches use one thread: two workers of two
# OpenMP threads each would compete for the cores and slow both down.
if int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')) > 1:
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _default_scope():
    """Each test starts from the default scope it found: mmengine's is
    process-wide (the latest created), so a test that runs a Runner or
    ``init_default_scope('mmseg')`` would otherwise decide which registry a
    later test's ``ImageClassifier`` builds its data preprocessor from."""
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    # Reassigned, not refilled: mmengine's overwrite_default_scope may have
    # given the class a new dict.
    DefaultScope._instance_dict = saved
