"""The operations behind mmvig's speed, each against what it replaces.

    python tools/analysis_tools/op_benchmark.py [--threads 1] [--reps 7] \
        [--sections conv aggregate knn profile] [--device cuda] \
        [--dtype float16]

- ``conv``: the 1x1 convolutions of Pyramid ViG-S (batch 16) on NCHW
  against channels-last maps, in GFLOP/s.
- ``aggregate``: max-relative aggregation, mmpretrain's ``MRConv2d`` (its
  update conv removed) against :func:`mmvig.ops.max_relative`, forward and
  forward + backward, at the shapes of Pyramid ViG-S stage 1 and ViG-S.
- ``knn``: the KNN of one stage-1 Grapher of Pyramid ViG-S at 224x224,
  batch 16, with the relative-position bias: mmpretrain's
  ``DenseDilatedKnnGraph`` against :func:`mmvig.ops.knn_graph`.
- ``profile``: where the time of the fused Pyramid ViG-S (batch 16
  inference) goes, by operator (``torch.profiler``, self CPU time, or self
  device time on a GPU).

Everything runs on ``--device`` (default: the CPU). ``--dtype float16`` /
``bfloat16`` runs the convolutions and the profiled model under autocast
and the aggregation on tensors of that dtype (autocast leaves gather and
max alone); the KNN ranks in float32 either way, as the model does.
Outputs are checked equal before timing (the convolutions within the
rounding of their dtype); times are medians of interleaved repetitions
between device synchronizations (:func:`mmvig.analysis.time_interleaved`).
"""
import argparse
import copy
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.utils import ProgressBar
from mmpretrain.models.backbones.vig import DenseDilatedKnnGraph, MRConv2d
from torch.profiler import ProfilerActivity, profile

from mmvig.analysis import (add_device_args, check_device_args,
                            machine_summary, precision, synchronize,
                            time_interleaved)
from mmvig.ties import rounding_tol
from mmvig.models import PyramidViG
from mmvig.ops import knn_graph, max_relative, relative_pos_factors

BATCH = 16
#: (in, out, groups, side) of Pyramid ViG-S's 1x1 convs: stage-1 FFN fc1 and
#: fc2 and graph update, stage-3 FFN fc1 and graph update.
CONVS = [(80, 320, 1, 56), (320, 80, 1, 56), (160, 160, 4, 56),
         (400, 1600, 1, 14), (800, 800, 4, 14)]
#: (name, nodes, keys, channels, k) of the aggregation.
AGGREGATIONS = [('pvig-s stage 1', 3136, 196, 80, 9),
                ('vig-s', 196, 196, 320, 18)]


def channels_last(x):
    return x.contiguous(memory_format=torch.channels_last)


def no_grad(fn, device='cpu', dtype='float32'):
    def step():
        with torch.no_grad(), precision(device, dtype):
            return fn()
    return step


def conv_section(reps, progress, device, dtype):
    lines = [f'1x1 convolutions, batch 16, GFLOP/s (eval, no_grad, '
             f'{dtype}):', '',
             '| in -> out | groups | map | NCHW | channels-last | speed-up |',
             '|---|---:|---:|---:|---:|---:|']
    for cin, cout, groups, side in CONVS:
        conv = nn.Conv2d(cin, cout, 1, groups=groups).to(device).eval()
        conv_cl = copy.deepcopy(conv).to(memory_format=torch.channels_last)
        x = torch.randn(BATCH, cin, side, side, device=device)
        x_cl = channels_last(x)
        steps = dict(nchw=no_grad(lambda: conv(x), device, dtype),
                     cl=no_grad(lambda: conv_cl(x_cl), device, dtype))
        nchw, cl = steps['nchw'](), steps['cl']()
        # The same sums of cin / groups products (and the bias) in another
        # order: within their rounding in the output's dtype.
        with torch.no_grad():
            magnitude = F.conv2d(x.abs(), conv.weight.abs(),
                                 conv.bias.abs(), groups=groups)
        tol = rounding_tol(cin // groups + 1, magnitude, nchw.dtype)
        assert ((nchw.double() - cl.double()).abs() <= tol).all(), \
            'the two layouts differ beyond rounding'
        times = time_interleaved(steps, reps, progress, device)
        flops = 2 * BATCH * side * side * cin // groups * cout
        nchw, cl = (flops / times[n] / 1e9 for n in ('nchw', 'cl'))
        lines.append(f'| {cin} -> {cout} | {groups} | {side}x{side} | '
                     f'{nchw:.0f} | {cl:.0f} | {cl / nchw:.2f}x |')
    return lines


def aggregate_section(reps, progress, device, dtype):
    lines = [f'Max-relative aggregation [x_i, max_j x_j - x_i], batch 16, '
             f'{dtype}, ms:',
             '', '| shapes (N, M, C, k) | pass | mmpretrain | mmvig | '
             'speed-up |', '|---|---|---:|---:|---:|']
    for name, nodes, keys, channels, k in AGGREGATIONS:
        reference = MRConv2d(channels, 2 * channels, dict(type='GELU'))
        reference.nn = nn.Identity()  # the aggregation alone
        # mmpretrain's maps are NCHW, its nodes (B, C, N, 1); mmvig's maps
        # are channels-last and its nodes (B, C, N) a view of them.
        maps = [torch.randn(BATCH, channels, int(n**0.5), int(n**0.5),
                            device=device, dtype=getattr(torch, dtype))
                for n in (nodes, keys)]
        index = torch.randint(0, keys, (BATCH, nodes, k), device=device)
        edges = torch.stack([index, torch.arange(nodes, device=device).view(
            1, -1, 1).expand_as(index)])

        def theirs(x, y):
            return reference(x, edges, y)[..., 0]

        def ours(x, y):
            return max_relative(x, y, index).transpose(1, 2)

        inputs = dict(theirs=[m.flatten(2).unsqueeze(-1) for m in maps],
                      ours=[channels_last(m).flatten(2) for m in maps])
        fns = dict(theirs=theirs, ours=ours)
        assert torch.equal(theirs(*inputs['theirs']), ours(*inputs['ours']))
        grad = torch.randn(BATCH, 2 * channels, nodes, device=device,
                           dtype=maps[0].dtype)

        def train_step(fn, leaves):
            def step():
                for leaf in leaves:
                    leaf.grad = None
                (fn(*leaves) * grad).sum().backward()
            return step

        steps = {}
        for impl, fn in fns.items():
            leaves = [t.detach().requires_grad_() for t in inputs[impl]]
            steps[('forward', impl)] = no_grad(
                lambda fn=fn, xs=inputs[impl]: fn(*xs))
            steps[('forward + backward', impl)] = train_step(fn, leaves)
        times = time_interleaved(steps, reps, progress, device)
        for mode in ('forward', 'forward + backward'):
            t, o = times[(mode, 'theirs')], times[(mode, 'ours')]
            lines.append(f'| {name} ({nodes}, {keys}, {channels}, {k}) | '
                         f'{mode} | {t * 1e3:.0f} | {o * 1e3:.0f} | '
                         f'{t / o:.1f}x |')
    return lines


def knn_section(reps, progress, device, dtype):
    model = PyramidViG('small')
    grapher = model.stages[0].blocks[0].grapher
    channels, side, ratio = model.channels[0], 56, grapher.reduce_ratio
    x_map = channels_last(
        torch.randn(BATCH, channels, side, side, device=device))
    y_map = F.avg_pool2d(x_map, ratio)
    num_keys = (side // ratio)**2
    query_pos, key_pos = relative_pos_factors(side, side, channels, num_keys,
                                              device=device)
    bias = (query_pos @ key_pos.t()).unsqueeze(0)  # mmpretrain's stored form
    reference = DenseDilatedKnnGraph(k=grapher.graph.k, dilation=1)
    x, y = (m.contiguous().flatten(2).unsqueeze(-1) for m in (x_map, y_map))
    steps = dict(
        theirs=lambda: reference(x, y, bias)[0],
        ours=lambda: knn_graph(x_map.flatten(2), y_map.flatten(2),
                               grapher.graph.k,
                               pos_factors=(query_pos, key_pos)))
    # The two sum the distance terms in another order: a near-tie at the
    # k-th neighbour may rank the other way in the last bit.
    with precision(device):
        same = (steps['theirs']() == steps['ours']()).all(
            dim=-1).float().mean().item()
    assert same > 0.999, f'only {same:.2%} of the neighbour lists agree'
    steps = {impl: no_grad(step, device, dtype)
             for impl, step in steps.items()}
    times = time_interleaved(steps, reps, progress, device)
    return [f'KNN of one stage-1 Grapher of Pyramid ViG-S at 224x224, batch '
            f'{BATCH} ({side * side} queries, {num_keys} keys, {channels} '
            f'channels, k={grapher.graph.k}, relative-position bias; '
            f'{same:.4%} of the neighbour lists identical), ms:', '',
            '| mmpretrain | mmvig | speed-up |', '|---:|---:|---:|',
            f'| {times["theirs"] * 1e3:.0f} | {times["ours"] * 1e3:.0f} | '
            f'{times["theirs"] / times["ours"]:.2f}x |']


def self_time(event, device):
    """An operator's own time (us) on the CPU, or on a CUDA device (torch
    before 2.4 names it ``self_cuda_time_total``)."""
    if device.type == 'cpu':
        return event.self_cpu_time_total
    return getattr(event, 'self_device_time_total',
                   getattr(event, 'self_cuda_time_total', 0))


def profile_section(reps, progress, device, dtype, top=8):
    model = PyramidViG('small').to(device).eval().fuse()
    images = torch.randn(BATCH, 3, 224, 224, device=device)
    activities = [ProfilerActivity.CPU] + (
        [ProfilerActivity.CUDA] if device.type == 'cuda' else [])
    where = 'CPU' if device.type == 'cpu' else 'GPU'
    with torch.no_grad(), precision(device, dtype):
        model(images)  # warm-up
        synchronize(device)
        progress.update()
        with profile(activities=activities) as prof:
            for _ in range(reps):
                model(images)
                progress.update()
            synchronize(device)
    events = sorted(prof.key_averages(),
                    key=lambda e: -self_time(e, device))
    total = sum(self_time(e, device) for e in events)
    return [f'Fused Pyramid ViG-S, batch {BATCH} inference, {dtype}: '
            f'{total / reps / 1e6:.3f} s of {where} time per batch ({reps} '
            f'batches profiled); the operators taking most of it:', '',
            f'| operator | share of {where} time |', '|---|---:|'] + [
                f'| `{e.key}` | {self_time(e, device) / total:.1%} |'
                for e in events[:top]]


SECTIONS = dict(conv=(conv_section, 2 * len(CONVS)),
                aggregate=(aggregate_section, 4 * len(AGGREGATIONS)),
                knn=(knn_section, 2), profile=(profile_section, 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default: 1)')
    parser.add_argument('--reps', type=int, default=7,
                        help='timed repetitions (median)')
    parser.add_argument('--sections', nargs='+', choices=list(SECTIONS),
                        default=list(SECTIONS))
    add_device_args(parser)
    args = parser.parse_args()
    check_device_args(parser, args)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    progress = ProgressBar(sum(SECTIONS[name][1] * (args.reps + 1)
                               for name in args.sections))
    load = os.getloadavg()[0]
    reports = [SECTIONS[name][0](args.reps, progress, args.device,
                                 args.dtype)
               for name in args.sections]
    print(f'\n\n{machine_summary(load, args.device)}')
    for lines in reports:
        print('\n' + '\n'.join(lines))


if __name__ == '__main__':
    main()
