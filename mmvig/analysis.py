"""Measurement helpers of the analysis tools, on the CPU or a CUDA device;
FLOPs counted the way the paper's numbers were.

Timing synchronizes the device around every timed call (CUDA runs
asynchronously: without it a step's time would be its launch time), and
memory is the most tensor memory alive at once during a step beyond what
was allocated before it: on CUDA from the caching allocator's peak
statistics, on the CPU from ``torch.profiler``'s allocation events.

The published FLOPs (multiply-adds, as fvcore counts) cover convolutions,
norm layers, linear layers and the KNN distance product ``x^T y`` (N * M * C
per Grapher); top-k, pooling, activations and element-wise ops are not
counted. The authors' relative-position bias is a precomputed buffer, so it
costs nothing there; mmvig forms it per chunk as a product of the same size,
which :func:`count_flops` reports separately as ``relative_pos``.
"""
import contextlib
import gc
import itertools
import os
import platform
import statistics
import time

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape
from torch.profiler import ProfilerActivity, profile

from .ops.knn_graph import full_float32_matmul

#: The ``--dtype`` choices of the measuring tools: float32, or autocast to
#: half precision.
DTYPES = ('float32', 'float16', 'bfloat16')


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


def device_name(device):
    """The GPU's name for a CUDA ``device``, else the CPU's."""
    device = torch.device(device)
    if device.type == 'cuda':
        return (f'{torch.cuda.get_device_name(device)} (CUDA '
                f'{torch.version.cuda})')
    return cpu_name()


def machine_summary(load_at_start, device='cpu'):
    """The measurement tools' first report line: the device (a GPU, or the
    CPU), cores, torch threads and version, and the load average at the
    start (``load_at_start``) and now, which tells whether other jobs shared
    the machine."""
    gpu = (f'{device_name(device)}; ' if torch.device(device).type == 'cuda'
           else '')
    return (f'{gpu}{cpu_name()}, {os.cpu_count()} CPUs, '
            f'{torch.get_num_threads()} torch threads, torch '
            f'{torch.__version__}; load average {load_at_start:.2f} at the '
            f'start, {os.getloadavg()[0]:.2f} at the end.')


def add_device_args(parser):
    """``--device`` and ``--dtype`` of the measuring tools; check them with
    :func:`check_device_args` after parsing."""
    parser.add_argument(
        '--device', default='cpu',
        help='where to measure: cpu, cuda or cuda:N (default: cpu)')
    parser.add_argument(
        '--dtype', default='float32', choices=DTYPES,
        help='float32 (no TF32 on GPUs), or autocast to float16 / bfloat16 '
        '(default: float32)')


def check_device_args(parser, args):
    """Refuse a device torch cannot use; ``args.device`` becomes a
    ``torch.device``."""
    try:
        args.device = torch.device(args.device)
    except RuntimeError as error:
        parser.error(f'--device {args.device}: {error}')
    if args.device.type not in ('cpu', 'cuda'):
        parser.error(f'--device {args.device}: only cpu and cuda are '
                     f'supported')
    if args.device.type == 'cuda' and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch {torch.__version__} '
                     f'sees no CUDA device here (a CPU-only build, or no '
                     f'working driver); use --device cpu')


def synchronize(device):
    """Wait for the work queued on a CUDA ``device`` (nothing on a CPU)."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def precision(device, dtype='float32'):
    """The numerics of a measurement: ``'float32'`` in full float32 (no TF32
    in matrix products or cuDNN convolutions, as on the CPU), else autocast
    on ``device`` to ``dtype``."""
    device = torch.device(device)
    if dtype != 'float32':
        with torch.autocast(device.type, dtype=getattr(torch, dtype)):
            yield
        return
    cudnn = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        with full_float32_matmul():
            yield
    finally:
        torch.backends.cudnn.allow_tf32 = cudnn


def time_interleaved(steps, reps, progress=None, device='cpu'):
    """Median seconds of each of ``steps`` (name -> callable), run in turn,
    repetition after repetition, after one warm-up each: on a shared
    machine other jobs then slow all of them alike. Each call is timed from
    a synchronized ``device`` to a synchronized ``device``. ``progress`` (an
    mmengine ``ProgressBar``) is updated after every call."""
    def run(step):
        synchronize(device)
        start = time.perf_counter()
        step()
        synchronize(device)
        elapsed = time.perf_counter() - start
        if progress is not None:
            progress.update()
        return elapsed

    for step in steps.values():
        run(step)  # warm-up: caches, allocator, one-off reorders, autotuning
    times = {name: [] for name in steps}
    for _ in range(reps):
        for name, step in steps.items():
            times[name].append(run(step))
    return {name: statistics.median(t) for name, t in times.items()}


def peak_memory(step, device='cpu'):
    """Most bytes of tensors alive at once during ``step()`` beyond those
    alive before it. On CUDA from the caching allocator's peak statistics;
    on the CPU from ``torch.profiler``'s allocation events (tensor memory
    only: not the allocator's cache nor libraries' scratch space)."""
    device = torch.device(device)
    if device.type == 'cuda':
        gc.collect()
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        step()
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        step()
    changes = sorted((event.time_range.start, event.self_cpu_memory_usage)
                     for event in prof.events()
                     if event.self_cpu_memory_usage)
    return max(itertools.accumulate(change for _, change in changes),
               default=0)


def gemm_peak_step(device='cpu', dtype='float32', size=2048):
    """A ``size``^3 matrix product on ``device`` in ``dtype`` (under
    :func:`precision`: full float32, or the autocast dtype): the step that
    measures the device's GEMM peak, and its FLOPs."""
    a, b = (torch.randn(size, size, device=device) for _ in range(2))

    def step():
        with precision(device, dtype):
            return a @ b

    return step, 2 * size**3


def inference_step(model, inputs, dtype='float32'):
    """A no-grad forward of ``model`` (put in eval mode) on ``inputs``, under
    :func:`precision`."""
    model.eval()

    def step():
        with torch.no_grad(), precision(inputs.device, dtype):
            return model(inputs)

    return step


def train_step(model, inputs, loss_fn, dtype='float32', lr=1e-4):
    """A training step of ``model`` (put in training mode) on ``inputs``:
    forward and ``loss_fn(outputs)`` under :func:`precision`, backward, SGD
    with momentum. A float16 loss is scaled, as by mmengine's
    ``AmpOptimWrapper``."""
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    device = inputs.device
    if hasattr(torch.amp, 'GradScaler'):
        scaler = torch.amp.GradScaler(device.type,
                                      enabled=dtype == 'float16')
    else:  # torch < 2.3 has a CUDA scaler only
        scaler = torch.cuda.amp.GradScaler(
            enabled=dtype == 'float16' and device.type == 'cuda')

    def step():
        optimizer.zero_grad(set_to_none=True)
        with precision(device, dtype):
            loss = loss_fn(model(inputs))
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return step


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
