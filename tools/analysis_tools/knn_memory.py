"""Peak memory and time of a Pyramid ViG forward + backward at detection size,
with the memory-bounded (chunked) KNN and with the dense one.

Each variant runs in a fresh subprocess, so the peaks do not mix. On the
CPU the peak is the process's maximum resident set size
(``getrusage().ru_maxrss``: what decides whether a CPU run fits in RAM); on
a GPU (``--device cuda``) the most memory torch allocated on it
(``torch.cuda.max_memory_allocated``). Both are reported in total and as
the increase over what was in use just before the forward (the model, the
input and, on the CPU, the imported libraries); times are taken between
device synchronizations. ``--dtype float16`` / ``bfloat16`` runs the step
under autocast::

    python tools/analysis_tools/knn_memory.py --arch small --size 1344 800 \
        --batch 2

``--config`` measures the whole segmentor of an mmseg config instead of the
bare backbone (its loss on random labels; the pretrained weights are not
loaded), and ``--inference`` a prediction (eval mode, no gradients, the
config's ``test_cfg``: whole image or sliding window) instead of a training
step::

    python tools/analysis_tools/knn_memory.py \
        --config configs/sem_fpn/fpn_pvig-s_4xb8-40k_ade20k-512x512.py \
        --size 512 512 --batch 8
    python tools/analysis_tools/knn_memory.py \
        --config configs/sem_fpn/fpn_pvig-s_4xb8-40k_ade20k-512x512.py \
        --size 2048 1024 --batch 1 --inference
    python tools/analysis_tools/knn_memory.py --device cuda --dtype float16 \
        --size 1344 800 --batch 2
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch

from mmvig.analysis import (add_device_args, check_device_args, device_name,
                            precision, synchronize)
from mmvig.models import PyramidViG
from mmvig.ops import DEFAULT_CHUNK_BYTES

VARIANTS = ('chunked', 'dense')


def _peak_bytes(device):
    """The peak so far: of the process's resident set on the CPU, of torch's
    allocations on a CUDA device."""
    if device.type == 'cuda':
        synchronize(device)
        return torch.cuda.max_memory_allocated(device)
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def build_model(args, chunk_bytes):
    """The measured model: a PyramidViG with its four outputs, or the
    segmentor of ``args.config`` without its pretrained weights."""
    backbone = dict(
        graph_cfg=dict(type='mmvig.KNNGraph', max_chunk_bytes=chunk_bytes),
        with_cp=args.with_cp)
    if args.config is None:
        return PyramidViG(arch=args.arch, out_indices=(0, 1, 2, 3),
                          **backbone)
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    cfg = Config.fromfile(args.config)
    cfg.model.backbone.update(init_cfg=None, **backbone)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def segmentation_samples(images, num_classes):
    """Data samples of a batch of ``images`` with random labels (on their
    device)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    shape = tuple(images.shape[2:])
    samples = []
    for _ in range(len(images)):
        sample = SegDataSample(metainfo=dict(
            img_shape=shape, ori_shape=shape, pad_shape=shape))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(num_classes, (1, ) + shape,
                               device=images.device))
        samples.append(sample)
    return samples


def measure(args, chunk_bytes):
    """A training step (forward + backward) or a prediction of the model in
    this process; returns memory (bytes), times (s) and the output shape."""
    device = args.device
    torch.manual_seed(0)
    model = build_model(args, chunk_bytes).to(device).train(
        not args.inference)
    width, height = args.size
    images = torch.randn(args.batch, 3, height, width, device=device)
    segmentor = args.config is not None
    if segmentor:
        samples = segmentation_samples(images,
                                       model.decode_head.num_classes)
    if device.type == 'cuda':
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    else:
        before = _peak_bytes(device)
    start = time.perf_counter()
    with torch.set_grad_enabled(not args.inference), \
            precision(device, args.dtype):
        output_shape = []  # of a segmentor's prediction
        if not segmentor:
            loss = sum(out.pow(2).mean() for out in model(images))
        elif args.inference:
            results = model.predict(images, samples)
            output_shape = list(results[0].pred_sem_seg.shape)
        else:
            loss, _ = model.parse_losses(model.loss(images, samples))
    synchronize(device)
    forward = time.perf_counter() - start
    backward = 0.
    if not args.inference:
        start = time.perf_counter()
        loss.backward()
        synchronize(device)
        backward = time.perf_counter() - start
    peak = _peak_bytes(device)
    return dict(rss_before=before, peak_rss=peak, increase=peak - before,
                forward_s=forward, backward_s=backward,
                output_shape=output_shape, threads=torch.get_num_threads())


def run_variant(args, variant):
    """Run one variant in a fresh interpreter; returns its measurements."""
    command = [sys.executable, __file__, '--size', str(args.size[0]),
               str(args.size[1]), '--batch', str(args.batch),
               '--chunk-bytes', str(args.chunk_bytes), '--worker', variant,
               '--device', str(args.device), '--dtype', args.dtype]
    command += ['--config', args.config] if args.config else [
        '--arch', args.arch]
    command += ['--with-cp'] * args.with_cp + ['--inference'] * args.inference
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f'the {variant} run failed (exit {result.returncode}; an '
            f'out-of-memory kill shows as -9):\n{result.stderr[-2000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', default='small',
                        help='PyramidViG arch. Defaults to small.')
    parser.add_argument(
        '--config', help='an mmseg config: measure its segmentor instead of '
        'a bare PyramidViG (--arch)')
    parser.add_argument('--size', type=int, nargs=2, default=(1344, 800),
                        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--chunk-bytes', type=int,
                        default=DEFAULT_CHUNK_BYTES,
                        help='max_chunk_bytes of the chunked KNNGraph. '
                        'Defaults to %(default)s.')
    parser.add_argument(
        '--with-cp', action='store_true',
        help='recompute blocks in the backward (with_cp): activations then '
        'no longer hide the KNN\'s own memory')
    parser.add_argument(
        '--inference', action='store_true',
        help='measure a prediction (eval mode, no gradients) instead of a '
        'training step')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS,
                        default=list(VARIANTS))
    parser.add_argument('--worker', choices=VARIANTS, help=argparse.SUPPRESS)
    add_device_args(parser)
    args = parser.parse_args()
    check_device_args(parser, args)
    if args.config is not None:
        if '--arch' in sys.argv:
            parser.error('--arch and --config exclude each other: the config '
                         'sets the backbone')
        from mmengine.config import Config
        if Config.fromfile(args.config).get('default_scope') != 'mmseg':
            parser.error(f'--config takes an mmseg config (default_scope '
                         f'mmseg); {args.config} is not one')
    return args


def main():
    args = parse_args()
    if args.worker:
        chunk = args.chunk_bytes if args.worker == 'chunked' else None
        print(json.dumps(measure(args, chunk)))
        return

    gib = 2**30
    model = args.config or f'PyramidViG {args.arch}'
    step = ('inference (eval mode, no gradients)' if args.inference else
            'training mode, forward + backward')
    cpu = args.device.type == 'cpu'
    where = (f'CPU ({device_name(args.device)}, {os.cpu_count()} cores)'
             if cpu else device_name(args.device))
    print(f'{model}, batch {args.batch} x 3 x {args.size[1]} x '
          f'{args.size[0]}, {step}{" with_cp" if args.with_cp else ""}, '
          f'{args.dtype}, {where}')
    print(f'{"KNN":<28} {"peak RSS" if cpu else "peak GPU":>10} '
          f'{"increase":>10} {"forward":>9} {"backward":>9}')
    for variant in args.variants:
        result = run_variant(args, variant)
        name = (f'chunked ({args.chunk_bytes / 2**20:g} MiB blocks)'
                if variant == 'chunked' else 'dense (max_chunk_bytes=None)')
        print(f'{name:<28} {result["peak_rss"] / gib:>8.2f} G '
              f'{result["increase"] / gib:>8.2f} G '
              f'{result["forward_s"]:>8.1f}s {result["backward_s"]:>8.1f}s')
    if result['output_shape']:
        print(f'output shape: {tuple(result["output_shape"])}')
    before = 'the resident size' if cpu else 'the memory allocated'
    print(f'({result["threads"]} torch threads; "increase" is the peak minus '
          f'{before} before the forward)')


if __name__ == '__main__':
    main()
