"""Fixtures of the tool tests: the digits as an image folder, and small
digits runs of the tools."""
import subprocess
import sys

import pytest

from ..helpers import ROOT

DIGITS_CONFIG = ROOT / 'configs' / 'pvig' / 'pvig-ti_1xb64_digits.py'


@pytest.fixture(scope='session')
def digits_root(tmp_path_factory):
    out = tmp_path_factory.mktemp('data') / 'digits'
    subprocess.run(
        [sys.executable,
         str(ROOT / 'tools/dataset_converters/prepare_digits.py'), '--out',
         str(out)], check=True, capture_output=True, timeout=300)
    return out


def small_digits_options(data_root, train=96, test=64, batch=32, epochs=2,
                         validate=True):
    """--cfg-options of a short digits run on the first ``train`` / ``test``
    images (``validate=False`` goes with --no-validate)."""
    options = [f'train_cfg.max_epochs={epochs}']
    loaders = dict(train_dataloader=train, test_dataloader=test)
    if validate:
        loaders['val_dataloader'] = test
    for loader, size in loaders.items():
        options += [f'{loader}.dataset.data_root={data_root}',
                    f'{loader}.dataset.indices={size}',
                    f'{loader}.batch_size={batch}']
    return options
