"""tools/gpu_check.py: its CPU mode end to end (the same checks as on a GPU,
tiny sizes), and the preparation and installation of its wheels with pip
stood in for."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from ..helpers import ROOT, load_tool, run_tool

gpu_check = load_tool(ROOT / 'tools' / 'gpu_check.py')


@pytest.mark.slow
def test_cpu_quick_mode_runs_every_check(tmp_path):
    out = tmp_path / 'gpu_check.json'
    result = run_tool('tools/gpu_check.py', '--device', 'cpu', '--quick',
                      '--out', out, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    report = json.loads(out.read_text())
    rows = report['results']
    assert {r['check'] for r in rows} == set(gpu_check.CHECKS)
    assert all(r['ok'] for r in rows)
    # The GPU's gather path forced on the CPU: the same float32 results.
    equal = {r['case']: r['rel_diff'] for r in rows if r['check'] == 'equal'}
    assert equal == {'ViG-S': 0, 'PViG-S': 0, 'MobileViG-S': 0,
                     'GreedyViG-S': 0}
    train = [r for r in rows if r['check'] == 'train']
    assert [(r['case'], r['saved'], r['resumed']) for r in train] == \
        [('train', True, True), ('resume', True, True)]
    speed = [r for r in rows if r['check'] == 'speed']
    assert {(r['library'], r['dtype'], r['mode']) for r in speed} == {
        (lib, dtype, mode) for lib in ('mmvig', 'mmpretrain')
        for dtype in ('float32', 'bfloat16') for mode in ('infer', 'train')}
    assert all(r['images_per_s'] > 0 for r in speed)
    assert [r['dtype'] for r in rows if r['check'] == 'gemm'] == \
        ['float32', 'bfloat16']
    assert all(r['tflops'] > 0 for r in rows if r['check'] == 'gemm')
    assert report['environment']['device'] == 'cpu'
    assert '| check | case |' in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is here')
def test_refuses_cuda_without_a_gpu(tmp_path):
    result = run_tool('tools/gpu_check.py', '--device', 'cuda', '--out',
                      tmp_path / 'x.json')
    assert result.returncode != 0
    assert '--device cuda: torch sees no CUDA device' in result.stderr


class FakePip:
    """Stands in for ``subprocess.run`` of pip: ``download`` writes the
    wheels of ``files`` (name -> bytes), ``install`` records its wheels."""

    def __init__(self, files):
        self.files, self.calls = files, []

    def __call__(self, command, **kwargs):
        self.calls.append(command)
        if 'download' in command:
            folder = Path(command[command.index('-d') + 1])
            for name, size in self.files.items():
                (folder / name).write_bytes(b'0' * size)
        return subprocess.CompletedProcess(command, 0)


def test_prepare_downloads_for_the_target_and_keeps_the_budget(
        tmp_path, monkeypatch, capsys):
    files = {'mmengine-0.10.7-py3-none-any.whl': 1000,
             'torchvision-0.26.0-cp312-cp312-manylinux_2_28_x86_64.whl': 3000,
             'opencv_python-5.1.0-cp37-abi3-manylinux_2_28_x86_64.whl': 9000,
             'sympy-1.14-py3-none-any.whl': 500,
             'nvidia_cublas-13-py3-none-manylinux_2_28_x86_64.whl': 500}
    pip = FakePip(files)
    monkeypatch.setattr(gpu_check.subprocess, 'run', pip)
    gpu_check.prepare(tmp_path / 'wheels', '3.12', '2.11')
    resolve, torchvision = pip.calls
    for command in pip.calls:
        assert command[1:4] == ['-m', 'pip', 'download']
        assert command[command.index('--python-version') + 1] == '3.12'
        assert '--only-binary=:all:' in command
    assert resolve[-3:] == gpu_check.PACKAGES
    assert torchvision[-2:] == ['--no-deps', 'torchvision==0.26.*']
    manifest = json.loads((tmp_path / 'wheels' / 'manifest.json').read_text())
    # What torch brings and OpenCV are not packed.
    assert sorted(manifest['wheels']) == sorted(list(files)[:2])
    assert sorted(p.name for p in (tmp_path / 'wheels').glob('*.whl')) == \
        sorted(list(files)[:2])
    monkeypatch.setattr(gpu_check, 'WHEEL_BUDGET_BYTES', 3999)
    with pytest.raises(SystemExit, match='over the 0 MiB budget'):
        gpu_check.prepare(tmp_path / 'small', '3.12', '2.11')


def test_install_adds_only_what_this_python_lacks(tmp_path, monkeypatch):
    for name in ('numpy-9.0-cp312-cp312-manylinux_2_28_x86_64.whl',
                 'mmvig_absent_dist-1.0-py3-none-any.whl'):
        (tmp_path / name).write_bytes(b'')
    pip = FakePip({})
    monkeypatch.setattr(gpu_check.subprocess, 'run', pip)
    site = gpu_check.install(tmp_path)
    (command, ) = pip.calls
    assert command[1:4] == ['-m', 'pip', 'install']
    assert '--no-index' in command and '--no-deps' in command
    assert command[command.index('--target') + 1] == str(site)
    # numpy is installed here; the other is not.
    assert [Path(c).name for c in command if c.endswith('.whl')] == \
        ['mmvig_absent_dist-1.0-py3-none-any.whl']
    try:
        import cv2  # noqa: F401
        has_cv2 = True
    except ImportError:
        has_cv2 = False
    assert (site / 'cv2.py').is_file() != has_cv2


def test_cv2_placeholder_gives_constants_and_no_functions(tmp_path):
    (tmp_path / 'cv2.py').write_text(gpu_check.CV2_PLACEHOLDER)
    script = ('import cv2; assert cv2.INTER_CUBIC == 0; '
              'assert cv2.__version__ == "0.0.0"\n'
              'try:\n    cv2.resize(1, 2)\nexcept TypeError:\n'
              '    print("no functions")')
    result = subprocess.run([sys.executable, '-c', script], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == 'no functions', result.stderr


def test_torchvision_release_of_a_torch_release():
    assert gpu_check.torchvision_for('2.11') == 'torchvision==0.26.*'
    assert gpu_check.torchvision_for('2.13.0') == 'torchvision==0.28.*'


def test_install_unpacks_wheels_without_pip(tmp_path, monkeypatch):
    with zipfile.ZipFile(tmp_path / 'mmvig_absent_dist-1.0-py3-none-any.whl',
                         'w') as wheel:
        wheel.writestr('mmvig_absent_dist/__init__.py', 'VALUE = 3\n')
    real_find_spec = gpu_check.importlib.util.find_spec
    monkeypatch.setattr(gpu_check.importlib.util, 'find_spec',
                        lambda name: None if name == 'pip' else
                        real_find_spec(name))
    site = gpu_check.install(tmp_path)
    assert (site / 'mmvig_absent_dist' / '__init__.py').read_text() == \
        'VALUE = 3\n'
