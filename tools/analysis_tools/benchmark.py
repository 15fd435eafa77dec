"""Speed of mmvig against mmpretrain's ViG port, side by side in one run.

    python tools/analysis_tools/benchmark.py pvig-s [--batch 16 [1 ...]] \
        [--size 224] [--reps 7] [--modes inference train] [--deploy] [--knn] \
        [--device cuda] [--dtype float16]

Both implementations of the arch get the same weights (mmpretrain's random
initialisation with randomised norm statistics, converted with
:func:`mmvig.checkpoint.to_mmvig_layout`), backbone plus classification
head. Before any timing their logits are compared: mmvig follows
mmpretrain's graphs, each node where they differ checked to be a tie
(:mod:`mmvig.ties`, exactly what the parity tests check).

Everything runs on ``--device`` (the CPU, or a GPU: ``cuda``), both
libraries in the same run. ``--dtype float16`` / ``bfloat16`` times the
steps under autocast (a training step then scales its float16 loss, as
mmengine's ``AmpOptimWrapper`` does); the logits are compared in float32
first, with no TF32 anywhere.

Timing runs every variant in turn, repetition after repetition, together
with a 2048^3 matmul (in ``--dtype``) that measures the device's GEMM peak
under the same load, and reports medians, each call timed between device
synchronizations (:mod:`mmvig.analysis`):

- ``img/s``; ``GFLOP/s`` = 2 x the multiply-adds of
  :func:`mmvig.analysis.count_flops` x img/s (a training step counts 3x the
  forward); ``of peak``: that over the GEMM's GFLOP/s;
- ``peak MiB``: the most tensor memory alive at once during one step,
  beyond the model and its input (on the CPU from ``torch.profiler``'s
  allocation events, on CUDA ``torch.cuda.max_memory_allocated``, in one
  more step after the timed ones);
- inference of mmvig plain and fused (``fuse()``, the deploy model), and a
  training step (forward, cross-entropy, backward, SGD) of each.

``--deploy`` (CPU only) adds two inference runtimes: ``torch.compile`` (inductor, frozen
weights) of the fused model, and ONNX Runtime (CPU, as many threads as
torch) on a dynamic export of the plain model
(:func:`mmvig.deployment.export_onnx`). Each is first compared with eager
PyTorch (within 1e-4 of the logits' scale, eager following their neighbours
where they differ by a float32 tie: :func:`mmvig.deployment.compare_outputs`).
Their memory is not reported (``-``): ONNX Runtime allocates outside
torch, and the compiled graph's buffers largely before the profiled step.

``--knn`` adds the graph construction of one stage-1 Grapher of a Pyramid
ViG at detection size, dense (``max_chunk_bytes=None``) against the default
memory-bounded chunks, measured the same way.

mmpretrain's port only runs at 224x224; at other sizes only mmvig is timed.
The mobile family (``mobilevig-ti`` ... ``greedyvig-b``, ``mobilevigv2-ti``
... ``adaptvig-b``, with their two averaged heads) has no implementation on
current OpenMMLab besides mmvig's, so it is timed alone (its equality with a reference is tested in
``tests/test_models/test_family.py``).
"""
import argparse
import contextlib
import copy
import os
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.utils import ProgressBar
from mmpretrain.models import backbones as mmpretrain_backbones
from mmpretrain.models.backbones.vig import DenseDilatedKnnGraph
from mmpretrain.models.heads import VigClsHead

from mmvig.analysis import (add_device_args, check_device_args, count_flops,
                            gemm_peak_step, inference_step, machine_summary,
                            peak_memory, precision, randomize_norms,
                            time_interleaved, train_step)
from mmvig.checkpoint import to_mmvig_layout
from mmvig.deployment import OnnxRuntimeModel, compare_outputs, export_onnx
from mmvig.models import MODEL_NAMES, PyramidViG, model_name
from mmvig.models.model_names import ARCH_ALIASES
from mmvig.ties import follow_graphs, record_graphs, relative_errors

REFERENCE_SIZE = (224, 224)
#: The inference runtimes of ``--deploy``.
DEPLOYED = ['torch.compile', 'ONNX Runtime']


class Classifier(nn.Module):
    """Backbone and head, images to logits."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        feats = self.backbone(x)
        if isinstance(self.head, VigClsHead):  # it expects pooled features
            feats = (feats[-1].mean(dim=(2, 3)), )
        return self.head(feats)


def build_pair(name, num_classes=1000):
    """mmpretrain's and mmvig's classifier with the same weights (``None``
    and mmvig's for a model mmpretrain has no port of)."""
    spec = model_name(name)
    backbone = spec.build_backbone()
    ours = Classifier(backbone, spec.build_head(backbone.out_channels[-1],
                                                num_classes))
    if spec.mmpretrain is None:
        return None, ours
    torch.manual_seed(0)
    theirs = Classifier(
        # mmpretrain names its archs in full ('tiny').
        getattr(mmpretrain_backbones, spec.mmpretrain)(
            ARCH_ALIASES[spec.arch]),
        VigClsHead(num_classes, backbone.out_channels[-1],
                   hidden_dim=spec.hidden_channels))
    randomize_norms(theirs)
    converted, _, _ = to_mmvig_layout(theirs.state_dict())
    ours.load_state_dict(converted)
    return theirs, ours


# -- measurements -------------------------------------------------------------


def classifier_train_step(model, images, dtype):
    """A training step (cross-entropy on random labels) of a copy of
    ``model``."""
    labels = torch.randint(0, 1000, (images.shape[0], ),
                           device=images.device)
    return train_step(copy.deepcopy(model), images,
                      lambda logits: F.cross_entropy(logits, labels), dtype)


# -- the checks ---------------------------------------------------------------


def check_logits(theirs, ours, images):
    """Max |difference| of the logits over their scale, and the number of
    tied nodes where mmvig took mmpretrain's neighbours."""
    theirs.eval(), ours.eval()
    with torch.no_grad(), precision(images.device):
        with record_graphs(theirs, DenseDilatedKnnGraph,
                           select=lambda edges: edges[0]) as graphs:
            expected = theirs(images)
        with follow_graphs(ours, graphs) as stats:
            got = ours(images)
    return relative_errors([got], [expected])[0], stats['flips']


class Deployed:
    """``torch.compile`` (inductor, frozen weights) of the fused model and
    ONNX Runtime on one dynamic export of the plain model, built once per
    arch for every batch.

    The compiled model's graphs are recorded (:func:`mmvig.ties.record_graphs`
    in ``stack``, an ``ExitStack`` open for the whole run: removing the
    hooks would recompile). Each compiled call starts the list afresh.
    """

    def __init__(self, ours, fused, directory, stack, size):
        self.ours, self.fused = ours.eval(), fused.eval()
        compiled = copy.deepcopy(fused)
        self.graphs = stack.enter_context(record_graphs(compiled))
        self.compiled = torch.compile(compiled, options={'freezing': True})
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, 'model.onnx')
        export_onnx(ours, path, torch.randn(2, 3, *size), ['logits'])
        threads = torch.get_num_threads()
        self.checked = OnnxRuntimeModel(path, with_graphs=True,
                                        threads=threads)
        self.runtime = OnnxRuntimeModel(path, threads=threads)

    def run_compiled(self, images):
        self.graphs.clear()
        with torch.no_grad():
            return self.compiled(images)

    def check(self, images):
        """``{impl: (max relative error, tied nodes)}`` against eager."""
        logits = self.run_compiled(images)
        checks = {'torch.compile': compare_outputs(
            self.fused, images, [logits], list(self.graphs))}
        outputs, graphs = self.checked(images)
        checks['ONNX Runtime'] = compare_outputs(self.ours, images, outputs,
                                                 graphs)
        return {impl: (max(errors), flips)
                for impl, (errors, flips) in checks.items()}

    def steps(self, images):
        return {'torch.compile': lambda: self.run_compiled(images),
                'ONNX Runtime': lambda: self.runtime(images)}


# -- KNN at detection size ----------------------------------------------------


def knn_comparison(arch, size, reps, progress, device):
    """Time and peak memory of one stage-1 Grapher's graph construction,
    dense and chunked."""
    model = PyramidViG(arch).to(device)
    grapher = model.stages[0].blocks[0].grapher
    width, height = size
    grid = (-(-height // model.stem.stride), -(-width // model.stem.stride))
    torch.manual_seed(0)
    nodes = torch.randn(1, model.channels[0], *grid, device=device).contiguous(
        memory_format=torch.channels_last)
    chunked = copy.deepcopy(grapher).eval()
    dense = copy.deepcopy(grapher).eval()
    dense.graph.max_chunk_bytes = None
    steps = {'dense': lambda: dense.neighbours(nodes),
             'chunked': lambda: chunked.neighbours(nodes)}
    assert torch.equal(steps['dense']()[1], steps['chunked']()[1])
    times = time_interleaved(steps, reps, progress, device)
    memory = {name: peak_memory(step, device)
              for name, step in steps.items()}
    info = dict(queries=grid[0] * grid[1],
                keys=steps['chunked']()[0].shape[-1],
                channels=model.channels[0], k=grapher.graph.k,
                dilation=grapher.graph.dilation,
                chunk_bytes=grapher.graph.max_chunk_bytes)
    return info, times, memory


# -- report -------------------------------------------------------------------


def mib(nbytes):
    return f'{nbytes / 2**20:.0f}'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('archs', nargs='*', metavar='ARCH',
                        help=f'any of {", ".join(MODEL_NAMES)}')
    parser.add_argument('--batch', type=int, nargs='+', default=[16],
                        help='one or more batch sizes')
    parser.add_argument('--size', type=int, nargs='+', default=[224],
                        metavar='PIXELS', help='square side, or WIDTH HEIGHT')
    parser.add_argument('--reps', type=int, default=7,
                        help='timed repetitions of each step (median)')
    parser.add_argument('--modes', nargs='+', default=['inference', 'train'],
                        choices=['inference', 'train'])
    parser.add_argument('--deploy', action='store_true',
                        help='also time torch.compile and ONNX Runtime '
                        '(inference)')
    parser.add_argument('--knn', action='store_true',
                        help='also compare the dense and chunked KNN at '
                        'detection size')
    parser.add_argument('--knn-arch', default='pvig-s',
                        choices=[name for name, spec in MODEL_NAMES.items()
                                 if spec.backbone is PyramidViG])
    parser.add_argument('--knn-size', type=int, nargs=2, default=[1344, 800],
                        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--threads', type=int,
                        help='torch threads (default: torch\'s choice)')
    add_device_args(parser)
    args = parser.parse_args()
    check_device_args(parser, args)
    if args.deploy and args.device.type != 'cpu':
        parser.error('--deploy times ONNX Runtime\'s CPU provider against '
                     'eager PyTorch on the CPU: use it with --device cpu')
    if not args.archs and not args.knn:
        parser.error('give archs to time, --knn, or both')
    unknown = set(args.archs) - set(MODEL_NAMES)
    if unknown:
        parser.error(f'unknown archs {sorted(unknown)}; choose from '
                     f'{", ".join(MODEL_NAMES)}')
    if len(args.size) not in (1, 2):
        parser.error('--size takes one or two numbers')
    args.size = (args.size * 2)[:2]  # (width, height)
    return args


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = args.size
    with_reference = (height, width) == REFERENCE_SIZE
    impls = {
        mode: (['mmpretrain'] if with_reference else []) + ['mmvig'] +
        (['mmvig fused'] if mode == 'inference' else []) +
        (DEPLOYED if mode == 'inference' and args.deploy else [])
        for mode in args.modes
    }
    num_steps = sum(len(v) for v in impls.values()) + 1  # + the GEMM
    progress = ProgressBar(
        (len(args.archs) * len(args.batch) * num_steps + 2 * args.knn) *
        (args.reps + 1))
    load = os.getloadavg()[0]

    device, dtype = args.device, args.dtype
    gemm, gemm_flops = gemm_peak_step(device, dtype)
    results, checks, deploy_checks = [], {}, {}
    with contextlib.ExitStack() as stack:
        if args.deploy:
            directory = stack.enter_context(tempfile.TemporaryDirectory())
        for name in args.archs:
            theirs, ours = (m if m is None else m.to(device)
                            for m in build_pair(name))
            fused = copy.deepcopy(ours)
            fused.backbone.fuse()
            models = {'mmpretrain': theirs, 'mmvig': ours,
                      'mmvig fused': fused}
            modes = {mode: [i for i in impls[mode] if i not in DEPLOYED and (
                theirs is not None or i != 'mmpretrain')]
                for mode in args.modes}
            flops = 2 * count_flops(ours, (1, 3, height, width))['total']
            deployed = args.deploy and Deployed(
                ours, fused, os.path.join(directory, name), stack,
                (height, width))
            for batch in args.batch:
                images = torch.randn(batch, 3, height, width, device=device)
                variants = {
                    (mode, impl): (inference_step if mode == 'inference'
                                   else classifier_train_step)(
                                       models[impl], images, dtype)
                    for mode in args.modes for impl in modes[mode]}
                if with_reference and theirs is not None:
                    checks[batch, name] = [check_logits(theirs, m, images)
                                           for m in (ours, fused)]
                if deployed:
                    deploy_checks[batch, name] = deployed.check(images)
                    variants.update({('inference', impl): step for impl, step
                                     in deployed.steps(images).items()})
                # Nothing to check for a family arch without --deploy.
                worst = max([err for err, _ in checks.get((batch, name), [])]
                            + [err for err, _ in deploy_checks.get(
                                (batch, name), {}).values()], default=0.)
                if worst > 1e-4:
                    sys.exit(f'{name}, batch {batch}: logits differ by '
                             f'{worst:.1e} of their scale: '
                             f'{checks.get((batch, name))} '
                             f'{deploy_checks.get((batch, name))}')
                times = time_interleaved(dict(variants, gemm=gemm),
                                         args.reps, progress, device)
                peak = gemm_flops / times.pop('gemm')
                for (mode, impl), seconds in times.items():
                    step_flops = flops * batch * (3 if mode == 'train' else 1)
                    results.append(dict(
                        arch=name, batch=batch, mode=mode, impl=impl,
                        img_s=batch / seconds,
                        gflop_s=step_flops / seconds / 1e9, peak=peak,
                        memory=None if impl in DEPLOYED else
                        peak_memory(variants[(mode, impl)], device)))

    knn = None
    if args.knn:
        knn = knn_comparison(model_name(args.knn_arch).arch, args.knn_size,
                             args.reps, progress, device)
    print('\n')
    report(args, load, results, checks, deploy_checks, knn)


def report(args, load, results, checks, deploy_checks, knn):
    print(machine_summary(load, args.device))
    for batch in args.batch:
        if results:
            report_models(args, batch,
                          [r for r in results if r['batch'] == batch],
                          checks, deploy_checks)
    if knn:
        report_knn(args, *knn)


def report_models(args, batch, results, checks, deploy_checks):
    width, height = args.size
    numerics = ('float32 (no TF32)' if args.dtype == 'float32' else
                f'{args.dtype} autocast')
    print(f'\nBatch {batch}, {width}x{height}, {numerics}, on '
          f'{args.device}.')
    for name in args.archs:
        if (batch, name) in checks:
            (ours_err, ours_ties), (fused_err, fused_ties) = checks[
                batch, name]
            print(f'{name}: logits against mmpretrain, max |diff| / max '
                  f'|logit| = {ours_err:.1e} (mmvig), {fused_err:.1e} '
                  f'(fused); {ours_ties} / {fused_ties} tied nodes followed '
                  f'mmpretrain\'s neighbours.')
        if (batch, name) in deploy_checks:
            print(f'{name}: logits against eager mmvig, max |diff| / max '
                  f'|logit| = ' + ', '.join(
                      f'{err:.1e} ({impl}, {ties} tied nodes followed)'
                      for impl, (err, ties) in
                      deploy_checks[batch, name].items()) + '.')
    print()
    print('| arch | mode | implementation | img/s | GFLOP/s | of GEMM peak '
          '| peak MiB | speed-up |')
    print('|---|---|---|---:|---:|---:|---:|---:|')
    baseline = {(r['arch'], r['mode']): r['img_s'] for r in results
                if r['impl'] == 'mmpretrain'}
    for r in results:
        base = baseline.get((r['arch'], r['mode']))
        speedup = f'{r["img_s"] / base:.2f}x' if base else '-'
        print(f'| {r["arch"]} | {r["mode"]} | {r["impl"]} | '
              f'{r["img_s"]:.2f} | {r["gflop_s"]:.1f} | '
              f'{r["gflop_s"] / r["peak"] * 1e9:.1%} | '
              f'{"-" if r["memory"] is None else mib(r["memory"])} | '
              f'{speedup} |')
    for name in args.archs:
        inference = {r['impl']: r['img_s'] for r in results
                     if r['arch'] == name and r['mode'] == 'inference'}
        if 'mmvig fused' in inference and args.deploy:
            fastest = max(inference, key=inference.get)
            print(f'\n{name}: the fastest inference is {fastest}, '
                  f'{inference[fastest] / inference["mmvig fused"]:.2f}x '
                  f'eager fused.')
    peaks = sorted({r['peak'] / 1e9 for r in results})
    print(f'\nGEMM peak (2048^3 {args.dtype} matmul, median per arch): '
          f'{", ".join(f"{p:.0f}" for p in peaks)} GFLOP/s. Training: '
          f'forward, cross-entropy, backward, SGD; 3x the forward FLOPs.')


def report_knn(args, info, times, memory):
    print(f'\nKNN of one stage-1 Grapher of {args.knn_arch} at '
          f'{args.knn_size[0]}x{args.knn_size[1]}: {info["queries"]} '
          f'queries, {info["keys"]} keys, {info["channels"]} channels, '
          f'k={info["k"]}, dilation {info["dilation"]}, relative-position '
          f'bias, batch 1.\n')
    print('| formulation | time (s) | extra memory (MiB) |')
    print('|---|---:|---:|')
    print(f'| dense (`max_chunk_bytes=None`) | {times["dense"]:.2f} | '
          f'{mib(memory["dense"])} |')
    print(f'| chunked ({info["chunk_bytes"] / 2**20:g} MiB blocks) | '
          f'{times["chunked"]:.2f} | {mib(memory["chunked"])} |')
    print(f'\nchunked / dense: {times["chunked"] / times["dense"]:.2f}x '
          f'the time, {memory["chunked"] / memory["dense"]:.1%} of the '
          f'memory.')


if __name__ == '__main__':
    main()
