"""One prepared check of mmvig on a GPU: correctness, AMP, a torchrun
training run and throughput, in minutes, on a machine with nothing but
Python and a CUDA build of torch.

On a networked machine, once (pure-Python wheels and the few small binary
ones mm* imports, for the target Python; at most 64 MiB)::

    python tools/gpu_check.py --prepare WHEELS [--python 3.12 --torch 2.11]

On the GPU machine (no internet, no mm* libraries), from this repository::

    python tools/gpu_check.py --wheels WHEELS [--out gpu_check.json]

It installs the wheels that the machine lacks into ``WHEELS/site`` (nothing
outside it changes) and runs every check; a failing check is reported and
the others still run. In the test suite the same checks run on the CPU with
tiny sizes (``--device cpu --quick``), the CPU's max-relative path against
the GPU's gather path forced on the CPU.

Checks (``--device cuda`` figures in parentheses):

- ``equal``: outputs on the device equal the CPU's, up to rounding, for
  ViG-S, Pyramid ViG-S, MobileViG-S and GreedyViG-S (eval, batch 2, in
  float64, where rounding cannot make near-ties change the graph).
- ``amp``: training steps of Pyramid ViG-S through mmengine's
  ``AmpOptimWrapper`` (float16): finite gradients and a loss scale that
  does not collapse (on the CPU mmvig's bfloat16 wrapper, no scale).
- ``train``: ``tools/dist_train.sh`` (torchrun, one process, NCCL) trains a
  few iterations of the digits config on generated images, saves a
  checkpoint, and ``--resume`` continues from it.
- ``speed``: images/s and peak memory of Pyramid ViG-S and ViG-S, mmvig
  against mmpretrain's ``PyramidVig`` / ``Vig`` on the same device, at
  batch 64 and 128, float32 and float16 autocast, inference and training.
- ``gemm``: the device's matrix-product peak (float32 without TF32, and
  float16), to read the speed rows against.
- ``knn``: the stage-1 KNN of Pyramid ViG-S at 1344x800 (detection), time
  and peak memory.
- ``compile``: ``torch.compile`` of Pyramid ViG-S on the device (inductor)
  equals eager.

Prints a table and writes one JSON (``--out``). The exit status is 1 when a
check failed.
"""
import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import os.path as osp
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEEL_BUDGET_BYTES = 64 * 2**20
PACKAGES = ['mmengine==0.10.7', 'mmcv-lite==2.1.0', 'mmpretrain==1.2.0']
#: What a CUDA build of torch brings (never downloaded), and what mm*
#: declares but this check does not need: OpenCV (a 60-80 MiB wheel, over
#: the budget alone) only decodes images, which the check does with Pillow;
#: a placeholder ``cv2`` module stands in for mmcv's import when it is
#: missing.
NOT_PACKED = re.compile(
    r'^(torch|triton|nvidia[-_].*|sympy|mpmath|networkx|jinja2|markupsafe|'
    r'filelock|fsspec|typing[-_]extensions|setuptools|opencv[-_].*)$', re.I)
CV2_PLACEHOLDER = '''\
"""Placeholder for OpenCV, which this machine lacks: mmcv imports cv2 and
reads its constants at import time; mmvig's gpu_check decodes and resizes
with Pillow. Any cv2 function call fails."""
__version__ = '0.0.0'


def __getattr__(name):
    if name.startswith('__'):
        raise AttributeError(name)
    return 0
'''
ARCHS = dict(equal=[('ViG-S', 'mmvig.ViG', 'small'),
                    ('PViG-S', 'mmvig.PyramidViG', 'small'),
                    ('MobileViG-S', 'mmvig.MobileViG', 's'),
                    ('GreedyViG-S', 'mmvig.GreedyViG', 's')])
SPEED_MODELS = [('PViG-S', 'mmvig.PyramidViG', 'PyramidVig'),
                ('ViG-S', 'mmvig.ViG', 'Vig')]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='prepare or run the GPU check of mmvig')
    parser.add_argument('--prepare', metavar='DIR',
                        help='download the wheels into DIR and stop')
    parser.add_argument('--python', default='3.12',
                        help='--prepare: Python of the GPU machine')
    parser.add_argument('--torch', default='2.11',
                        help='--prepare: torch of the GPU machine (picks '
                        'the matching torchvision)')
    parser.add_argument('--wheels', metavar='DIR',
                        help='install what is missing from the wheels of '
                        '--prepare DIR, then run')
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes (the test suite, on the CPU)')
    parser.add_argument('--checks', nargs='+', default=list(CHECKS),
                        choices=list(CHECKS))
    parser.add_argument('--out', default='gpu_check.json',
                        help='the JSON of all results')
    return parser.parse_args(argv)


# --------------------------------------------------------------- wheels ---

def torchvision_for(torch_version):
    """torchvision's release for torch ``2.N``: ``0.(N + 15)``."""
    major, minor = (int(p) for p in torch_version.split('.')[:2])
    if major != 2:
        raise SystemExit(f'--torch {torch_version}: only torch 2.x is known')
    return f'torchvision=={major - 2}.{minor + 15}.*'


def prepare(directory, python, torch_version):
    """Download the wheels of :data:`PACKAGES` and their dependencies (and
    torchvision, without torch) for CPython ``python`` on x86-64 Linux,
    minus :data:`NOT_PACKED`; refuse more than :data:`WHEEL_BUDGET_BYTES`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    target = ['--only-binary=:all:', '--python-version', python,
              '--implementation', 'cp']
    for tag in ('manylinux_2_28_x86_64', 'manylinux_2_17_x86_64',
                'manylinux2014_x86_64'):
        target += ['--platform', tag]
    pip = [sys.executable, '-m', 'pip', 'download', '--quiet',
           '--disable-pip-version-check', '-d', str(out)] + target
    subprocess.run(pip + PACKAGES, check=True)
    subprocess.run(pip + ['--no-deps', torchvision_for(torch_version)],
                   check=True)
    sizes = {}
    for wheel in sorted(out.glob('*.whl')):
        if NOT_PACKED.match(wheel.name.split('-')[0]):
            wheel.unlink()
        else:
            sizes[wheel.name] = wheel.stat().st_size
    total = sum(sizes.values())
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f'{size / 2**20:8.2f} MiB  {name}')
    print(f'{total / 2**20:8.2f} MiB  in {len(sizes)} wheels, {out}')
    if total > WHEEL_BUDGET_BYTES:
        raise SystemExit(f'the wheels take {total / 2**20:.1f} MiB, over '
                         f'the {WHEEL_BUDGET_BYTES / 2**20:.0f} MiB budget')
    (out / 'manifest.json').write_text(json.dumps(
        dict(python=python, torch=torch_version, packages=PACKAGES,
             wheels=sizes), indent=1))


def installed(distribution):
    try:
        importlib.metadata.distribution(distribution)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def install(directory):
    """Install into ``DIR/site`` the wheels of ``DIR`` whose distributions
    this Python lacks (no index, no dependency resolution: the folder is
    the closure), and the cv2 placeholder if OpenCV is missing. Returns the
    site directory."""
    directory = Path(directory)
    site = directory / 'site'
    missing = [str(w) for w in sorted(directory.glob('*.whl'))
               if not installed(w.name.split('-')[0])]
    if missing and importlib.util.find_spec('pip') is None:
        # A wheel is a zip of what its install puts in site-packages.
        for wheel in missing:
            zipfile.ZipFile(wheel).extractall(site)
        print(f'unpacked {len(missing)} wheels into {site} (no pip here)')
    elif missing:
        subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet',
                        '--disable-pip-version-check', '--no-index',
                        '--no-deps', '--upgrade', '--target', str(site)] +
                       missing, check=True)
        print(f'installed {len(missing)} wheels into {site}')
    site.mkdir(exist_ok=True)
    try:
        import cv2  # noqa: F401
    except ImportError:
        (site / 'cv2.py').write_text(CV2_PLACEHOLDER)
    return site


# --------------------------------------------------------------- helpers ---
# Timing, memory and numerics come from mmvig.analysis, imported inside the
# checks: mmvig and mmengine are importable only after --wheels installed
# them.

def build(type_name, **kwargs):
    from mmpretrain.registry import MODELS
    return MODELS.build(dict(type=type_name, **kwargs))


# ---------------------------------------------------------------- checks ---

def check_equal(device, quick):
    """Device outputs against the CPU's, in float64 on both: the relative
    difference of the last features (largest |difference| over largest
    |value|). In float64 no two neighbours tie by rounding, so the graphs
    agree and any difference is the ops'; on the CPU the GPU's max-relative
    path is forced against the CPU's (in float32 in quick mode: the same
    graphs, bit for bit)."""
    import torch
    from mmvig.analysis import precision, randomize_norms
    from mmvig.ops import graph_conv
    rows = []
    size, batch, dtype = ((64, 1, torch.float32) if quick else
                          (224, 2, torch.float64))
    for name, type_name, arch in ARCHS['equal']:
        torch.manual_seed(0)
        model = build(type_name, arch=arch)
        randomize_norms(model)
        model = model.to(dtype).eval()
        x = torch.randn(batch, 3, size, size, dtype=dtype)
        with torch.no_grad(), precision(device):
            expected = model(x)[-1]
            if device.type == 'cpu':
                with forced_path(graph_conv, 'gather'):
                    got = model(x)[-1]
            else:
                got = model.to(device)(x.to(device))[-1].cpu()
        diff = ((got - expected).abs().max() /
                expected.abs().max()).item()
        # float64 rounding of sums of a few thousand terms through the
        # network: ~1e-12; a changed neighbour or a wrong op: ~1. The two
        # CPU paths run the same float32 arithmetic.
        tol = 1e-9 if dtype == torch.float64 else 0.
        rows.append(dict(check='equal', case=name, dtype=str(dtype)[6:],
                         rel_diff=diff, ok=diff <= tol))
    return rows


@contextlib.contextmanager
def forced_path(graph_conv, path):
    default = graph_conv.max_relative_path
    graph_conv.max_relative_path = lambda device: path
    try:
        yield
    finally:
        graph_conv.max_relative_path = default


def classifier_batch(batch, size, num_classes=1000):
    import torch
    from mmpretrain.structures import DataSample
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
                for _ in range(batch)],
        data_samples=[DataSample().set_gt_label(i % num_classes)
                      for i in range(batch)])


def check_amp(device, quick):
    """AMP training steps of a Pyramid ViG-S classifier (the in1k config):
    finite gradients, and the loss scale at least a quarter of its start."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import AmpOptimWrapper
    from mmvig.engine import CPUAmpOptimWrapper
    torch.manual_seed(0)
    cfg = Config.fromfile(ROOT / 'configs/pvig/pvig-s_8xb128_in1k.py')
    if quick:
        cfg.model.backbone.arch = 'tiny'
        cfg.model.head.in_channels = 384
    # As the Runner builds it: the config's data preprocessor (one-hot
    # labels for the batch augments).
    cfg.model.data_preprocessor = cfg.data_preprocessor
    model = build(cfg.model.pop('type'), **cfg.model).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    if device.type == 'cuda':
        wrapper = AmpOptimWrapper(optimizer=optimizer, dtype='float16')
        start = wrapper.loss_scaler.get_scale()
    else:
        wrapper = CPUAmpOptimWrapper(optimizer=optimizer)
        start = None
    steps, batch, size = (2, 2, 64) if quick else (6, 32, 224)
    finite = []
    for _ in range(steps):
        data = model.data_preprocessor(classifier_batch(batch, size), True)
        with wrapper.optim_context(model):
            loss = sum(v for k, v in model(**data, mode='loss').items()
                       if 'loss' in k)
        wrapper.backward(loss)
        finite.append(all(torch.isfinite(p.grad).all().item()
                          for p in model.parameters() if p.grad is not None))
        wrapper.step()
        wrapper.zero_grad()
    scale = wrapper.loss_scaler.get_scale() if start else None
    # Dynamic scaling may skip a step or two while it finds its scale.
    ok = all(finite[2:] if start else finite) and torch.isfinite(loss).item()
    if start:
        ok = ok and scale >= start / 4
    return [dict(check='amp', case='PViG-S' if not quick else 'PViG-Ti',
                 dtype='float16' if start else 'bfloat16',
                 finite_grads=finite, loss=loss.item(), start_scale=start,
                 end_scale=scale, ok=bool(ok))]


DIGITS_CONFIG = '''_base_ = [{base!r}]
data_root = {root!r}
pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='Resize', scale=(32, 32), interpolation='bicubic',
         backend='pillow'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(
    data_root=data_root, pipeline=pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(
    data_root=data_root, pipeline=pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
'''


def write_digits(root, per_class=2):
    """Random 8x8 'digits' (Pillow PNGs) in the digits config's layout."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for label in range(10):
            folder = root / split / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f'{i}.png')


def check_train(device, quick):
    """tools/dist_train.sh with one process: one epoch, a checkpoint, then
    --resume to a second epoch."""
    work = Path(tempfile.mkdtemp(prefix='mmvig_gpu_check_'))
    write_digits(work / 'digits')
    config = work / 'digits.py'
    config.write_text(DIGITS_CONFIG.format(
        base=str(ROOT / 'configs/pvig/pvig-ti_1xb64_digits.py'),
        root=str(work / 'digits')))
    env = dict(os.environ, PYTHON=sys.executable)
    if device.type == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    rows = []
    for epochs, extra in ((1, []), (2, ['--resume'])):
        result = subprocess.run(
            ['bash', str(ROOT / 'tools/dist_train.sh'), str(config), '1',
             '--work-dir', str(work / 'run'), '--cfg-options',
             f'train_cfg.max_epochs={epochs}'] + extra,
            env=env, capture_output=True, text=True, timeout=600)
        log = result.stdout + result.stderr
        saved = (work / 'run' / f'epoch_{epochs}.pth').is_file()
        resumed = not extra or 'resumed epoch: 1' in log
        backend = re.search(r"""backend['"]?: ['"]?(\w+)""", log)
        rows.append(dict(
            check='train', case='resume' if extra else 'train',
            backend=backend.group(1) if backend else None,
            saved=saved, resumed=resumed,
            ok=result.returncode == 0 and saved and resumed,
            **({} if result.returncode == 0 else dict(log_tail=log[-3000:]))))
    shutil.rmtree(work, ignore_errors=True)
    return rows


def check_speed(device, quick):
    """Images/s and peak memory, mmvig against mmpretrain, the two timed in
    turn on the same device (:func:`mmvig.analysis.time_interleaved`)."""
    import torch
    from mmvig.analysis import (inference_step, peak_memory,
                                time_interleaved, train_step)
    batches, arch = ((1, ), 'tiny') if quick else ((64, 128), 'small')
    dtypes = ('float32', 'bfloat16' if device.type == 'cpu' else 'float16')
    reps = 1 if quick else 10
    rows = []
    for name, ours, theirs in SPEED_MODELS[:1] if quick else SPEED_MODELS:
        torch.manual_seed(0)
        models = dict(mmvig=build(ours, arch=arch).to(device),
                      mmpretrain=build(theirs, arch=arch).to(device))
        case = name.replace('-S', '-Ti') if quick else name
        for batch in batches:
            x = torch.randn(batch, 3, 224, 224, device=device)
            for dtype in dtypes:
                for mode in ('infer', 'train'):
                    steps = {
                        library: inference_step(model, x, dtype)
                        if mode == 'infer' else train_step(
                            model, x, lambda out: out[-1].float().mean(),
                            dtype)
                        for library, model in models.items()}
                    try:
                        times = time_interleaved(steps, reps, device=device)
                        memory = {library: peak_memory(step, device)
                                  for library, step in steps.items()}
                    except torch.OutOfMemoryError:
                        times = memory = None
                    for library in models:
                        row = dict(check='speed', case=case, library=library,
                                   batch=batch, dtype=dtype, mode=mode,
                                   ok=True)
                        if times is None:
                            row.update(images_per_s=None, note='out of memory')
                        else:
                            row.update(
                                images_per_s=round(batch / times[library], 1),
                                peak_gib=round(memory[library] / 2**30, 3)
                                if device.type == 'cuda' else None)
                        rows.append(row)
        del models, steps
    return rows


def check_gemm(device, quick):
    """The device's matrix-product peak, TFLOP/s, for reading the speed
    rows: float32 (no TF32) and the autocast dtype."""
    from mmvig.analysis import gemm_peak_step, time_interleaved
    size = 256 if quick else 8192
    rows = []
    for dtype in ('float32', 'bfloat16' if device.type == 'cpu' else
                  'float16'):
        step, flops = gemm_peak_step(device, dtype, size)
        seconds = time_interleaved(dict(gemm=step), 1 if quick else 10,
                                   device=device)['gemm']
        rows.append(dict(check='gemm', case=f'{size}x{size}', dtype=dtype,
                         tflops=float(f'{flops / seconds / 1e12:.3g}'),
                         ok=True))
    return rows


def check_knn(device, quick):
    """The stage-1 KNN of Pyramid ViG-S at 1344x800 (detection): 336x200
    nodes, keys pooled 4x4, 80 channels, k = 9, relative-position bias."""
    import torch
    from mmvig.analysis import peak_memory, time_interleaved
    from mmvig.ops import knn_graph, relative_pos_factors
    height, width = (56, 56) if quick else (336, 200)
    keys = (height // 4) * (width // 4)
    batch = 1 if quick else 2
    x = torch.randn(batch, 80, height * width, device=device)
    y = torch.randn(batch, 80, keys, device=device)
    factors = relative_pos_factors(height, width, 80, keys, device=device)
    def step():
        return knn_graph(x, y, 9, pos_factors=factors)

    seconds = time_interleaved(dict(knn=step), 1 if quick else 5,
                               device=device)['knn']
    memory = peak_memory(step, device)
    return [dict(check='knn', case=f'{height}x{width} nodes, {keys} keys',
                 batch=batch, ms=round(seconds * 1e3, 2),
                 peak_gib=round(memory / 2**30, 3)
                 if device.type == 'cuda' else None, ok=True)]


def check_compile(device, quick):
    """torch.compile (inductor; in quick mode dynamo's capture alone, the
    ``eager`` backend, no code generation) of Pyramid ViG equals eager."""
    import torch
    from mmvig.analysis import precision, randomize_norms
    arch, batch, size = ('tiny', 1, 64) if quick else ('small', 8, 224)
    torch.manual_seed(0)
    model = build('mmvig.PyramidViG', arch=arch)
    randomize_norms(model)
    model = model.to(device).eval()
    x = torch.randn(batch, 3, size, size, device=device)
    backend = 'eager' if quick else 'inductor'
    with torch.no_grad(), precision(device):
        expected = model(x)[-1]
        got = torch.compile(model, backend=backend)(x)[-1]
    diff = ((got - expected).abs().max() / expected.abs().max()).item()
    return [dict(check='compile', case=f'PViG-{arch}', backend=backend,
                 rel_diff=diff, ok=diff < 1e-3)]


CHECKS = dict(equal=check_equal, amp=check_amp, train=check_train,
              gemm=check_gemm, speed=check_speed, knn=check_knn,
              compile=check_compile)


def environment(device):
    import torch
    info = dict(python=platform.python_version(), torch=torch.__version__,
                device=str(device), machine=platform.machine(),
                cpu_count=os.cpu_count(),
                load=os.getloadavg()[0] if hasattr(os, 'getloadavg') else
                None)
    if device.type == 'cuda':
        info.update(gpu=torch.cuda.get_device_name(device),
                    cuda=torch.version.cuda)
    try:
        import triton
        info['triton'] = triton.__version__
    except ImportError:
        info['triton'] = None
    return info


def table(rows):
    keys = ['check', 'case', 'library', 'batch', 'dtype', 'mode',
            'images_per_s', 'tflops', 'ms', 'peak_gib', 'rel_diff', 'ok']
    used = [k for k in keys if any(k in row for row in rows)]
    lines = ['| ' + ' | '.join(used) + ' |',
             '|' + '---|' * len(used)]
    for row in rows:
        cells = []
        for key in used:
            value = row.get(key, '')
            if isinstance(value, float) and key == 'rel_diff':
                value = f'{value:.1e}'
            cells.append(str(value))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def run(args):
    import torch
    import mmvig  # noqa: F401  (registers the models)
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch sees no CUDA device')
    report = dict(environment=environment(device), quick=args.quick,
                  results=[])
    start = time.time()
    for name in args.checks:
        began = time.time()
        try:
            rows = CHECKS[name](device, args.quick)
        except Exception as error:  # report, and run the other checks
            rows = [dict(check=name, case='error', ok=False,
                         error=f'{type(error).__name__}: {error}',
                         traceback=traceback.format_exc()[-3000:])]
            print(rows[0]['traceback'], file=sys.stderr)
        for row in rows:
            row['seconds'] = round(time.time() - began, 1)
        report['results'] += rows
        print(f'[{time.time() - start:6.1f} s] {name}: '
              f'{"ok" if all(r["ok"] for r in rows) else "FAILED"}',
              flush=True)
    report['seconds'] = round(time.time() - start, 1)
    print(table(report['results']))
    Path(args.out).write_text(json.dumps(report, indent=1))
    failed = [r for r in report['results'] if not r['ok']]
    print(f'{len(failed)} of {len(report["results"])} results failed; '
          f'{args.out} written in {report["seconds"]} s')
    return 1 if failed else 0


def main(argv=None):
    args = parse_args(argv)
    if args.prepare:
        prepare(args.prepare, args.python, args.torch)
        return 0
    if args.wheels:
        site = install(args.wheels)
        argv = list(sys.argv[1:] if argv is None else argv)
        at = argv.index('--wheels')
        del argv[at:at + 2]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(site), str(ROOT), os.environ.get('PYTHONPATH', '')]))
        return subprocess.run([sys.executable, osp.abspath(__file__)] + argv,
                              env=env).returncode
    return run(args)


if __name__ == '__main__':
    sys.exit(main())
