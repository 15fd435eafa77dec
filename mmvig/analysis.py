"""Measurement helpers of the analysis tools; FLOPs counted the way the
paper's numbers were.

The published FLOPs (multiply-adds, as fvcore counts) cover convolutions,
norm layers, linear layers and the KNN distance product ``x^T y`` (N * M * C
per Grapher); top-k, pooling, activations and element-wise ops are not
counted. The authors' relative-position bias is a precomputed buffer, so it
costs nothing there; mmvig forms it per chunk as a product of the same size,
which :func:`count_flops` reports separately as ``relative_pos``.
"""
import os
import platform
import statistics
import time

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape


def cpu_name():
    """The CPU's model name, for the measurement tools' reports."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary(load_at_start):
    """The measurement tools' first report line: CPU, cores, torch threads
    and version, and the load average at the start (``load_at_start``) and
    now, which tells whether other jobs shared the machine."""
    return (f'{cpu_name()}, {os.cpu_count()} CPUs, '
            f'{torch.get_num_threads()} torch threads, torch '
            f'{torch.__version__}; load average {load_at_start:.2f} at the '
            f'start, {os.getloadavg()[0]:.2f} at the end.')


def time_interleaved(steps, reps, progress=None):
    """Median seconds of each of ``steps`` (name -> callable), run in turn,
    repetition after repetition, after one warm-up each: on a shared
    machine other jobs then slow all of them alike. ``progress`` (an
    mmengine ``ProgressBar``) is updated after every call."""
    def run(step):
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        if progress is not None:
            progress.update()
        return elapsed

    for step in steps.values():
        run(step)  # warm-up: caches, allocator, one-off reorders
    times = {name: [] for name in steps}
    for _ in range(reps):
        for name, step in steps.items():
            times[name].append(run(step))
    return {name: statistics.median(t) for name, t in times.items()}


def randomize_norms(model, seed=0):
    """Give ``model``'s batch norms non-trivial statistics and affine
    parameters, and its position embeddings random values (a freshly
    initialised model has identities there, which hide layout mistakes in a
    comparison)."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
    for name, p in model.named_parameters():
        if name.endswith('pos_embed'):
            p.data.normal_(0, 0.1, generator=gen)


def _baddbmm_flops(inputs, outputs):
    """``baddbmm(bias, (B, n, C), (B, C, M))``: B * n * C * M."""
    batch, rows, inner = get_shape(inputs[1])
    return batch * rows * inner * get_shape(inputs[2])[-1]


def count_flops(model, input_shape):
    """Multiply-adds of one forward of ``model`` on zeros of
    ``input_shape`` ``(B, C, H, W)``.

    Returns:
        dict: ``total`` (counted as the paper counts), its parts ``conv``,
        ``norm``, ``linear``, ``knn`` (graph construction), and
        ``relative_pos`` (mmvig's per-chunk bias, not in ``total``).
    """
    was_training = model.training
    model.eval()
    with torch.no_grad():
        analyzer = FlopAnalyzer(model, torch.zeros(input_shape))
        analyzer.set_op_handle('aten::baddbmm', _baddbmm_flops)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        by_op = analyzer.by_operator()
    model.train(was_training)
    parts = dict(conv=by_op.get('conv', 0),
                 norm=by_op.get('batch_norm', 0) + by_op.get('group_norm', 0)
                 + by_op.get('layer_norm', 0),
                 linear=by_op.get('linear', 0) + by_op.get('addmm', 0),
                 knn=by_op.get('baddbmm', 0),
                 relative_pos=by_op.get('matmul', 0))
    parts['total'] = sum(v for k, v in parts.items() if k != 'relative_pos')
    return parts
