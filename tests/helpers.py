"""Helpers shared by the test folders: the repository root, running the
tools, a local HTTP server for checkpoints given by URL, and float
tolerances derived from what is compared."""
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

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*args, cwd=ROOT, env=None, timeout=600):
    """Run a tool (by default from the repository root); a ``.py`` script
    runs with this interpreter."""
    command = [str(a) for a in args]
    if command[0].endswith('.py'):
        command.insert(0, sys.executable)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


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


def rounding_tol(terms, magnitude, dtype=torch.float32):
    """Tolerance for two computations of the same sums in ``dtype`` that
    differ only in rounding (another summation order, blocking or CPU
    kernel): each side is within ``terms * u * magnitude`` of the exact
    value (Higham's bound for a sum of ``terms`` products whose absolute
    values add up to ``magnitude``; ``u`` is the unit roundoff), so the two
    are within twice that. ``magnitude`` may be a tensor (one bound per
    element)."""
    unit_roundoff = torch.finfo(dtype).eps / 2
    if isinstance(magnitude, torch.Tensor):
        return 2 * terms * unit_roundoff * magnitude.detach().double()
    return 2 * terms * unit_roundoff * float(magnitude)


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


def assert_same_neighbours(got, expected, dist, tol):
    """Neighbour indices ``(B, N, k)`` equal up to ties: wherever a node's
    neighbour set differs, its neighbours' sorted distances (``dist``
    ``(B, N, M)``) must agree within ``tol``. Returns the number of nodes
    that differ (all of them ties)."""
    assert got.shape == expected.shape, (got.shape, expected.shape)
    differ = (got.sort(-1).values != expected.sort(-1).values).any(-1)
    for b, node in differ.nonzero().tolist():
        mine = dist[b, node, got[b, node]].sort().values
        theirs = dist[b, node, expected[b, node]].sort().values
        assert torch.allclose(mine, theirs, rtol=0, atol=tol), (
            f'sample {b}, node {node}: the neighbours differ and it is not '
            f'a tie (within {tol:.3g}): {mine} vs {theirs}')
    return int(differ.sum())
