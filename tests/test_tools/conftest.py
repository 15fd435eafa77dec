"""Fixtures of the tool tests: the digits as an image folder, and small
digits runs of the tools."""
import functools
import http.server
import importlib.util
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def run_tool(*args, env=None, timeout=600):
    """Run a tool from the repository root with this interpreter."""
    command = [str(a) for a in args]
    if command[0].endswith('.py'):
        command.insert(0, sys.executable)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def load_tool(path):
    """A tool script (``tools/...py``, relative to the root) as a module."""
    spec = importlib.util.spec_from_file_location(
        'tool_' + Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LocalHTTPServer:
    """Serves ``directory`` on 127.0.0.1 while in a ``with`` block; the
    paths requested are in ``requests``."""

    def __init__(self, directory):
        self.requests = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):

            def log_message(self, format, *args):
                requests.append(self.path)

        self.server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0),
            functools.partial(Handler, directory=str(directory)))
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True,
                         kwargs=dict(poll_interval=0.2)).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
