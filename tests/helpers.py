"""Helpers shared by the test folders: the repository root, running the
tools, a local HTTP server for checkpoints given by URL, and comparisons
within float tolerances derived from what is compared (the tolerances and
graph comparisons themselves are :mod:`mmvig.ties`)."""
import functools
import http.server
import importlib.util
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import torch

from mmvig.ties import rounding_tol

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*args, cwd=ROOT, env=None, timeout=600):
    """Run a tool (by default from the repository root); a ``.py`` script
    runs with this interpreter."""
    command = [str(a) for a in args]
    if command[0].endswith('.py'):
        command.insert(0, sys.executable)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def run_dist_tool(script, *args, cwd, env):
    """Run ``tools/dist_train.sh`` or ``dist_test.sh`` (``script``) in
    ``cwd`` with :func:`torchrun_env`; asserts success, returns the
    output."""
    result = run_tool('bash', ROOT / 'tools' / script, *args, cwd=cwd,
                      env=torchrun_env(env))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def save_pvig_tiny_in1k(path):
    """Save a random Pyramid ViG-Ti classifier checkpoint in mmpretrain's
    layout to ``path``, as an ImageNet checkpoint for a backbone's
    ``init_cfg``; returns its state dict in mmvig's layout."""
    import torch
    from mmpretrain.models.backbones import PyramidVig

    from mmvig.checkpoint import to_mmvig_layout
    state = {f'backbone.{k}': v
             for k, v in PyramidVig(arch='tiny').state_dict().items()}
    torch.save(dict(state_dict=state), path)
    return to_mmvig_layout(state)[0]


def assert_no_decay_on_norms_and_pos_embed(model, optim_wrapper_cfg):
    """Builds ``optim_wrapper_cfg`` for ``model`` (a detector or segmentor
    with an mmvig Pyramid ViG backbone) and checks that norm layers and the
    position embedding get no weight decay; returns ``{param: decay}``."""
    from mmengine.optim import build_optim_wrapper
    from torch.nn.modules.batchnorm import _BatchNorm
    optim_wrapper = build_optim_wrapper(model, optim_wrapper_cfg)
    decay = {}
    for group in optim_wrapper.optimizer.param_groups:
        for param in group['params']:
            decay[param] = group['weight_decay']
    norms = [p for m in model.modules() if isinstance(m, _BatchNorm)
             for p in m.parameters()]
    assert norms and all(decay[p] == 0 for p in norms)
    assert decay[model.backbone.pos_embed] == 0
    return decay


def load_tool(path):
    """A tool script (``tools/...py``, relative to the root) as a module."""
    spec = importlib.util.spec_from_file_location(
        'tool_' + Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def torchrun_env(env=None, **variables):
    """Environment of ``tools/dist_*.sh``: this interpreter and a free port
    (torchrun's rendezvous of one launch must not collide with another)."""
    return dict(env or os.environ, PYTHON=sys.executable,
                PORT=str(free_port()), **variables)


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


def assert_close_rounding(actual, expected, terms, magnitude=None):
    """``actual == expected`` up to :func:`rounding_tol` of sums of
    ``terms`` products, element by element; ``magnitude`` defaults to the
    compared values' largest absolute value (the scale of the result)."""
    if magnitude is None:
        magnitude = expected.abs().max()
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    error = (actual.detach().double() - expected.detach().double()).abs()
    tol = torch.as_tensor(rounding_tol(terms, magnitude, expected.dtype),
                          dtype=torch.float64)
    excess = error - tol
    worst = excess.argmax()
    assert (excess <= 0).all(), (
        f'{int((excess > 0).sum())} of {error.numel()} elements differ by '
        f'more than the rounding of {terms}-term sums; worst: '
        f'{error.flatten()[worst].item():.3g} > '
        f'{tol.expand_as(error).flatten()[worst].item():.3g}')
