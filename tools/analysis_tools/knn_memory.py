"""Peak memory and time of a Pyramid ViG forward + backward at detection size,
with the memory-bounded (chunked) KNN and with the dense one.

Each variant runs in a fresh subprocess, so the peaks do not mix; the peak
is the process's maximum resident set size (``getrusage().ru_maxrss``),
reported in total and as the increase over the resident size just before
the forward (the model, the input and the imported libraries)::

    python tools/analysis_tools/knn_memory.py --arch small --size 1344 800 \
        --batch 2

CPU only: peak RSS is what decides whether a CPU run fits in RAM.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch

from mmvig.analysis import cpu_name
from mmvig.models import PyramidViG
from mmvig.ops import DEFAULT_CHUNK_BYTES

VARIANTS = ('chunked', 'dense')


def _max_rss_bytes():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(arch, width, height, batch, chunk_bytes, with_cp):
    """Forward + backward of a PyramidViG in training mode in this process;
    returns memory (bytes) and times (s)."""
    torch.manual_seed(0)
    model = PyramidViG(arch=arch, out_indices=(0, 1, 2, 3),
                       knn_chunk_bytes=chunk_bytes, with_cp=with_cp).train()
    images = torch.randn(batch, 3, height, width)
    before = _max_rss_bytes()
    start = time.perf_counter()
    outs = model(images)
    forward = time.perf_counter() - start
    loss = sum(out.pow(2).mean() for out in outs)
    start = time.perf_counter()
    loss.backward()
    backward = time.perf_counter() - start
    peak = _max_rss_bytes()
    return dict(rss_before=before, peak_rss=peak, increase=peak - before,
                forward_s=forward, backward_s=backward,
                threads=torch.get_num_threads())


def run_variant(args, variant):
    """Run one variant in a fresh interpreter; returns its measurements."""
    command = [sys.executable, __file__, '--arch', args.arch, '--size',
               str(args.size[0]), str(args.size[1]), '--batch',
               str(args.batch), '--chunk-bytes', str(args.chunk_bytes),
               '--worker', variant] + (['--with-cp'] if args.with_cp else [])
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
    parser.add_argument('--size', type=int, nargs=2, default=(1344, 800),
                        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--chunk-bytes', type=int,
                        default=DEFAULT_CHUNK_BYTES,
                        help='knn_chunk_bytes of the chunked variant. '
                        'Defaults to %(default)s.')
    parser.add_argument(
        '--with-cp', action='store_true',
        help='recompute blocks in the backward (with_cp): activations then '
        'no longer hide the KNN\'s own memory')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS,
                        default=list(VARIANTS))
    parser.add_argument('--worker', choices=VARIANTS, help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.worker:
        chunk = args.chunk_bytes if args.worker == 'chunked' else None
        print(json.dumps(
            measure(args.arch, *args.size, args.batch, chunk, args.with_cp)))
        return

    gib = 2**30
    print(f'PyramidViG {args.arch}, batch {args.batch} x 3 x {args.size[1]} '
          f'x {args.size[0]}, training mode'
          f'{" with_cp" if args.with_cp else ""}, forward + backward, CPU '
          f'({cpu_name()}, {os.cpu_count()} cores)')
    print(f'{"KNN":<28} {"peak RSS":>10} {"fwd+bwd":>10} {"forward":>9} '
          f'{"backward":>9}')
    for variant in args.variants:
        result = run_variant(args, variant)
        name = (f'chunked ({args.chunk_bytes / 2**20:g} MiB blocks)'
                if variant == 'chunked' else 'dense (knn_chunk_bytes=None)')
        print(f'{name:<28} {result["peak_rss"] / gib:>8.2f} G '
              f'{result["increase"] / gib:>8.2f} G '
              f'{result["forward_s"]:>8.1f}s {result["backward_s"]:>8.1f}s')
    print(f'({result["threads"]} torch threads; "fwd+bwd" is the peak minus '
          f'the resident size before the forward)')


if __name__ == '__main__':
    main()
