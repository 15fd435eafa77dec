"""The GPU paths of the graph ops, run on the CPU: max-relative's gather path
(what CUDA takes) against the CPU's loop, its kernel count, float32
gradient accumulation and determinism, and KNN's full-float32 GEMM."""
import importlib
import subprocess
import sys

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from mmvig.models.layers import GraphConv
from mmvig.ops import gather_neighbours, knn_graph, max_relative
from ..helpers import ROOT, assert_close_rounding

graph_conv_module = importlib.import_module('mmvig.ops.graph_conv')
knn_graph_module = importlib.import_module('mmvig.ops.knn_graph')
PATHS = graph_conv_module.MAX_RELATIVE_PATHS


def test_paths_by_device():
    assert graph_conv_module.max_relative_path('cpu') == 'loop'
    assert graph_conv_module.max_relative_path('cuda:1') == 'gather'
    x = torch.randn(1, 2, 3)
    with pytest.raises(ValueError, match="unknown max-relative path 'fast'"):
        max_relative(x, x, torch.zeros(1, 3, 2, dtype=torch.long), 'fast')


@pytest.mark.parametrize('gather_bytes', [4, 200, 2**30])
@pytest.mark.parametrize('channels_last', [False, True])
def test_gather_path_equals_loop_path(gather_bytes, channels_last,
                                      monkeypatch):
    """Values and both gradients bit for bit, one or many chunks."""
    monkeypatch.setattr(graph_conv_module, 'MAX_RELATIVE_GATHER_BYTES',
                        gather_bytes)
    x, y = torch.randn(3, 6, 17), torch.randn(3, 6, 11)
    if channels_last:
        x, y = (t.transpose(1, 2).contiguous().transpose(1, 2)
                for t in (x, y))
    # Repeated neighbours: ties between equal rows.
    index = torch.randint(0, 11, (3, 17, 5))
    grad = torch.randn(3, 17, 12)
    results = {}
    for path in PATHS:
        a, b = x.clone().requires_grad_(), y.clone().requires_grad_()
        out = max_relative(a, b, index, path)
        results[path] = (out, *torch.autograd.grad(out, (a, b), grad))
    for got, expected in zip(results['gather'], results['loop']):
        assert torch.equal(got, expected)


def test_gather_path_gradcheck():
    x = torch.randn(2, 4, 13, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 4, 9, dtype=torch.float64, requires_grad=True)
    index = torch.randint(0, 9, (2, 13, 3))
    torch.autograd.gradcheck(
        lambda a, b: max_relative(a, b, index, 'gather'), (x, y))


class OpCounter(TorchDispatchMode):
    """Counts the ``aten`` ops that reach kernels, by name: the mode sits
    below autograd, so it sees the forward's and the backward's ops but not
    what a kernel calls inside. Views (``view``, ``as_strided``...) are
    metadata only and not counted; a ``reshape`` that copies shows as its
    ``clone``. On a GPU each counted op is a fixed number of kernel
    launches."""

    def __init__(self):
        super().__init__()
        self.counts = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if not any(r.alias_info is not None and not r.alias_info.is_write
                   for r in func._schema.returns):
            name = func.overloadpacket.__name__
            self.counts[name] = self.counts.get(name, 0) + 1
        return func(*args, **(kwargs or {}))


def count_ops(fn):
    with OpCounter() as counter:
        fn()
    return counter.counts


def max_relative_step(batch, nodes, path, channels=16, k=9):
    # The backbone's layout: each node's channels a row.
    x, y = (torch.randn(batch, n, channels).transpose(1, 2).requires_grad_()
            for n in (nodes, nodes // 4))
    index = torch.randint(0, nodes // 4, (batch, nodes, k))
    grad = torch.randn(batch, nodes, 2 * channels)
    return lambda: max_relative(x, y, index, path).backward(grad)


def test_gather_path_launches_do_not_grow_with_batch_or_nodes():
    small = count_ops(max_relative_step(1, 64, 'gather'))
    assert count_ops(max_relative_step(8, 64, 'gather')) == small
    assert count_ops(max_relative_step(2, 1024, 'gather')) == small
    # The CPU loop launches per neighbour and per chunk: what the count
    # would catch.
    loop = sum(count_ops(max_relative_step(1, 64, 'loop')).values())
    more = sum(count_ops(max_relative_step(4, 64, 'loop', k=18)).values())
    assert more > loop > sum(small.values())


def graph_conv_step(conv_type, batch, nodes, channels=8):
    conv = GraphConv(channels, 2 * channels, conv_type)
    x = torch.randn(batch, channels, nodes, requires_grad=True)
    index = torch.randint(0, nodes, (batch, nodes, 9))
    grad = torch.randn(batch, 2 * channels, nodes)
    return lambda: conv(x, x, index).backward(grad)


@pytest.mark.parametrize('conv_type', ['edge', 'sage', 'gin'])
def test_other_convs_launches_do_not_grow_with_batch_or_nodes(conv_type):
    # From batch 2: at batch 1 a reshape is a view, not a copy.
    small = count_ops(graph_conv_step(conv_type, 2, 16))
    assert count_ops(graph_conv_step(conv_type, 5, 16)) == small
    assert count_ops(graph_conv_step(conv_type, 2, 200)) == small


@pytest.mark.parametrize('path', PATHS)
def test_shared_key_gradients_accumulate_in_float32(path):
    """3000 queries whose maximum is the same key, each sending it a
    gradient of 1: float16 accumulation stops at 2048 (2048 + 1 rounds to
    2048), float32 accumulation gives 3000, exact in float16."""
    x = torch.zeros(1, 2, 3000, dtype=torch.float16)
    y = torch.tensor([[[1., 0.], [1., 0.]]], dtype=torch.float16)
    y.requires_grad_()
    index = torch.tensor([0, 1]).repeat(1, 3000, 1)
    out = max_relative(x, y, index, path)
    grad = torch.zeros_like(out)
    grad[..., 1::2] = 1  # the relative half of the interleaved channels
    (grad_y,) = torch.autograd.grad(out, y, grad)
    assert grad_y.dtype == torch.float16
    assert grad_y[0, :, 0].tolist() == [3000, 3000]
    assert grad_y[0, :, 1].tolist() == [0, 0]


@pytest.mark.parametrize('path', PATHS)
def test_deterministic_algorithms(path):
    """Every op of both passes runs under
    ``torch.use_deterministic_algorithms(True)`` (on CUDA ``scatter_add_``
    then takes its deterministic kernel) and repeats bit for bit."""
    x = torch.randn(2, 8, 40, requires_grad=True)
    y = torch.randn(2, 8, 10, requires_grad=True)
    index = torch.randint(0, 10, (2, 40, 9))
    grad = torch.randn(2, 40, 16)
    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        runs = []
        for _ in range(2):
            out = max_relative(x, y, index, path)
            runs.append((out, *torch.autograd.grad(out, (x, y), grad)))
    finally:
        torch.use_deterministic_algorithms(was)
    for first, second in zip(*runs):
        assert torch.equal(first, second)
    expected = max_relative(x.double(), y.double(), index, path)
    assert_close_rounding(runs[0][0], expected.float(), 1)


class MatmulPrecisionProbe(TorchFunctionMode):
    """Records ``torch.get_float32_matmul_precision()`` at each
    ``baddbmm`` (the KNN distance GEMM)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.baddbmm:
            self.seen.append(torch.get_float32_matmul_precision())
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize('precision', ['high', 'medium'])
def test_knn_gemm_runs_in_full_float32_whatever_the_setting(precision):
    x, y = torch.randn(2, 16, 120), torch.randn(2, 16, 30)
    expected = knn_graph(x, y, 9, 2)
    torch.set_float32_matmul_precision(precision)
    try:
        with MatmulPrecisionProbe() as probe:
            got = knn_graph(x, y, 9, 2, max_chunk_bytes=2 * 30 * 4 * 50)
        after = torch.get_float32_matmul_precision()
    finally:
        torch.set_float32_matmul_precision('highest')
    assert probe.seen == ['highest'] * 3  # 120 queries, 50 per chunk
    assert after == precision
    assert torch.equal(got, expected)


def test_knn_gemm_full_float32_with_per_backend_flags():
    """With the per-backend ``fp32_precision`` flags set (torch then refuses
    the legacy getter), the GEMM runs with them at ``'ieee'`` and they are
    restored. In a subprocess: the flags would stay mixed in this one."""
    if not hasattr(torch.backends.mkldnn, 'matmul'):
        pytest.skip(f'this torch ({torch.__version__}) has no per-backend '
                    f'fp32_precision flags')
    script = '''
import torch
from torch.overrides import TorchFunctionMode
from mmvig.ops import knn_graph

matmul = torch.backends.cuda.matmul, torch.backends.mkldnn.matmul
seen = []

class Probe(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.baddbmm:
            seen.append([b.fp32_precision for b in matmul])
        return func(*args, **(kwargs or {}))

x = torch.randn(1, 8, 40)
expected = knn_graph(x, k=5)
for b in matmul:
    b.fp32_precision = 'tf32'
with Probe():
    got = knn_graph(x, k=5)
assert seen == [['ieee', 'ieee']], seen
assert [b.fp32_precision for b in matmul] == ['tf32', 'tf32']
assert torch.equal(got, expected)
print('ok')
'''
    result = subprocess.run([sys.executable, '-c', script], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and 'ok' in result.stdout, result.stderr


def test_gathered_neighbour_gradients_accumulate_in_float32():
    """The edge / sage / gin gather: 3000 queries gathering the same key,
    each sending it 1, give 3000 (float16 accumulation: 2048)."""
    y = torch.ones(1, 2, 2, dtype=torch.float16, requires_grad=True)
    index = torch.zeros(1, 3000, 1, dtype=torch.long)
    neighbours = gather_neighbours(y, index)
    assert torch.equal(neighbours, torch.ones(1, 3000, 1, 2,
                                              dtype=torch.float16))
    (grad_y, ) = torch.autograd.grad(neighbours, y,
                                     torch.ones_like(neighbours))
    assert grad_y.dtype == torch.float16
    assert grad_y[0].tolist() == [[3000, 0], [3000, 0]]


def test_gathered_neighbour_gradcheck():
    y = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    index = torch.randint(0, 5, (2, 7, 4))
    torch.autograd.gradcheck(lambda t: gather_neighbours(t, index), (y, ))
