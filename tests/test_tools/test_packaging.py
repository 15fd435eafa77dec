"""mmvig as a user installs it into their own environment: a wheel built
from the checkout's files (as a fresh clone has them), installed with
``--no-deps`` into a separate folder and used from another directory. Checks
its requirements metadata, its ``.mim`` contents, models by name in
mmpretrain's hub, ``mim search / download / train / test``, and mmseg's and
mmdet's own base model configs with an mmvig backbone swapped in."""
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest
import torch

from ..helpers import ROOT, LocalHTTPServer
from .conftest import DIGITS_CONFIG, small_digits_options


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """``(folder the wheel is installed in, the wheel)``."""
    root = tmp_path_factory.mktemp('packaging')
    clone = root / 'clone'
    listed = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split('\0')):
        if (ROOT / name).is_file():  # not a deleted, still-tracked file
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    subprocess.run(pip + ['wheel', '--no-deps', '--no-build-isolation', '-q',
                          '-w', str(root / 'dist'), str(clone)],
                   check=True, capture_output=True, timeout=600)
    wheel, = (root / 'dist').glob('mmvig-*.whl')
    subprocess.run(pip + ['install', '--no-deps', '-q', '--target',
                          str(root / 'site'), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return root / 'site', wheel


def run_outside(site, args, cwd, timeout=600):
    """Run ``python args`` in ``cwd`` with the installed folder first on
    PYTHONPATH and the checkout taken off it; asserts success, returns the
    output."""
    paths = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
             if p and os.path.realpath(p) != str(ROOT)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *paths]),
               TORCH_HOME=str(cwd / 'torch_home'))
    result = subprocess.run([sys.executable, *map(str, args)], cwd=cwd,
                            env=env, capture_output=True, text=True,
                            timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.mark.slow
def test_wheel_declares_ranges_and_extras_and_carries_the_mim_files(site):
    _, wheel = site
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata, = [n for n in names if n.endswith('.dist-info/METADATA')]
        requires = [line.split(': ', 1)[1] for line in
                    archive.read(metadata).decode().splitlines()
                    if line.startswith('Requires-Dist: ')]
    core = {r.split('<')[0].split('>')[0]: r for r in requires if ';' not in r}
    assert set(core) == {'torch', 'torchvision', 'numpy', 'mmengine',
                         'mmpretrain'}
    assert core['torch'] == 'torch<2.16,>=2.1'
    assert not any('==' in r for r in core.values())
    extras = {}
    for r in requires:
        if ';' in r:
            extras.setdefault(r.split('extra == ')[1].strip('"'),
                              []).append(r.split(';')[0])
    assert extras['mim'] == ['mmcv<2.2.0,>=2.1.0']
    assert extras['det'] == ['mmdet<3.4,>=3.3.0']
    assert extras['seg'][0] == 'mmsegmentation<1.3,>=1.2.2'
    assert {r.split('>')[0] for r in extras['deploy']} == {
        'onnx', 'onnxruntime', 'onnxscript'}
    for name in ('model-index.yml', 'configs/pvig/metafile.yml',
                 'configs/pvig/pvig-ti_1xb64_digits.py',
                 'configs/_base_/models/pvig.py', 'tools/train.py',
                 'tools/test.py', 'tools/dist_train.sh',
                 'demo/image_demo.py'):
        assert f'mmvig/.mim/{name}' in names, name
    assert not any(n.startswith('tests/') for n in names)


@pytest.mark.slow
def test_installing_the_wheel_changes_no_package_of_this_environment(site):
    """This environment satisfies the declared ranges with every extra:
    pip would install mmvig and nothing else, and ``pip check`` is clean."""
    import json
    _, wheel = site
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    result = subprocess.run(
        pip + ['install', '--dry-run', '--quiet', '--report', '-',
               f'mmvig[mim,det,seg,deploy] @ {wheel.as_uri()}'],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert {item['metadata']['name'] for item in report['install']} <= {
        'mmvig'}
    result = subprocess.run(pip + ['check'], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_models_by_name_and_mim_outside_the_checkout(site, tmp_path,
                                                     digits_root):
    site, _ = site
    # Models by name, from the installed copy.
    out = run_outside(site, ['-c', textwrap.dedent(f'''
        import mmvig
        assert mmvig.__file__.startswith({str(site)!r}), mmvig.__file__
        from mmpretrain import get_model, list_models
        names = list_models('*vig*')
        assert 'pvig-s_3rdparty_in1k' in names and \\
            'pvig-small_3rdparty_in1k' in names, names
        model = get_model('pvig-ti_3rdparty_in1k')
        print(type(model.backbone).__module__, len(names))
    ''')], tmp_path)
    assert 'mmvig.models.backbones' in out
    # mim search lists every model of the index.
    out = run_outside(site, ['-m', 'mim', 'search', 'mmvig'], tmp_path)
    for name in ('pvig-ti_3rdparty_in1k', 'retinanet_pvig-s_fpn_1x_coco',
                 'fpn_pvig-s_4xb8-40k_ade20k-512x512'):
        assert name in out
    # mim download: the metafile's weights URL (pointed at a local server in
    # the installed copy only) and the config, dumped.
    served = tmp_path / 'served'
    served.mkdir()
    from mmpretrain.models.backbones import PyramidVig
    torch.save(PyramidVig('tiny').state_dict(), served / 'pvig_ti_78.5.pth.tar')
    metafile = site / 'mmvig/.mim/configs/pvig/metafile.yml'
    remote = 'https://github.com/huawei-noah/Efficient-AI-Backbones/' \
        'releases/download/pyramid-vig/pvig_ti_78.5.pth.tar'
    with LocalHTTPServer(served) as server:
        metafile.write_text(metafile.read_text().replace(
            remote, f'{server.url}/pvig_ti_78.5.pth.tar'))
        run_outside(site, ['-m', 'mim', 'download', 'mmvig', '--config',
                           'pvig-ti_3rdparty_in1k', '--dest', '.'], tmp_path)
    assert server.requests == ['/pvig_ti_78.5.pth.tar']
    assert (tmp_path / 'pvig_ti_78.5.pth.tar').is_file()
    assert 'mmvig.PyramidViG' in (tmp_path / 'pvig-ti_3rdparty_in1k.py').read_text()
    # mim train / mim test with the installed config and tools.
    options = small_digits_options(digits_root, epochs=1, validate=False)
    run_outside(site, ['-m', 'mim', 'train', 'mmvig', DIGITS_CONFIG.name,
                       '--work-dir', 'work', '--no-validate',
                       '--cfg-options', *options], tmp_path)
    checkpoint = tmp_path / 'work' / 'epoch_1.pth'
    assert checkpoint.is_file()
    out = run_outside(site, ['-m', 'mim', 'test', 'mmvig', DIGITS_CONFIG.name,
                             '--checkpoint', checkpoint, '--work-dir', 'work',
                             '--cfg-options', *options], tmp_path)
    assert 'accuracy/top1' in out


BASES = {
    'mmseg::_base_/models/fpn_r50.py': ('mmseg', '''
        model = dict(
            data_preprocessor=dict(size=(64, 64)),
            backbone=dict(_delete_=True, type='mmvig.PyramidViG', arch='tiny',
                          out_indices=(0, 1, 2, 3)),
            neck=dict(in_channels=[48, 96, 240, 384]))
    '''),
    'mmseg::_base_/models/upernet_r50.py': ('mmseg', '''
        model = dict(
            data_preprocessor=dict(size=(64, 64)),
            backbone=dict(_delete_=True, type='mmvig.PyramidViG', arch='tiny',
                          out_indices=(0, 1, 2, 3)),
            decode_head=dict(in_channels=[48, 96, 240, 384]),
            auxiliary_head=dict(in_channels=240))
    '''),
    'mmdet::_base_/models/retinanet_r50_fpn.py': ('mmdet', '''
        model = dict(
            backbone=dict(_delete_=True, type='mmvig.PyramidViG', arch='tiny',
                          out_indices=(1, 2, 3)),
            neck=dict(in_channels=[96, 240, 384]))
    '''),
}


@pytest.mark.slow
@pytest.mark.parametrize('base', list(BASES))
def test_upstream_base_model_with_an_mmvig_backbone(site, tmp_path, base):
    """Built and run from the installed copy; mmseg's bases pass their
    ``pretrained='open-mmlab://resnet50_v1c'`` to the backbone, which takes
    it as its init_cfg and refuses a ResNet checkpoint when it loads."""
    site, _ = site
    library, override = BASES[base]
    config = tmp_path / 'config.py'
    config.write_text(f"_base_ = '{base}'\ncustom_imports = dict("
                      "imports=['mmvig'], allow_failed_imports=False)\n" +
                      textwrap.dedent(override))
    served = tmp_path / 'served'
    served.mkdir()
    import torchvision
    torch.save(torchvision.models.resnet18().state_dict(),
               served / 'resnet.pth')
    with LocalHTTPServer(served) as server:
        run_outside(site, ['-c', textwrap.dedent(f'''
            import torch
            from mmengine.config import Config
            from mmengine.registry import init_default_scope
            from mmvig.checkpoint import CheckpointError
            cfg = Config.fromfile({str(config)!r})
            init_default_scope({library!r})
            from {library}.registry import MODELS
            model = MODELS.build(cfg.model).eval()
            if {library!r} == 'mmseg':
                assert cfg.model.pretrained == 'open-mmlab://resnet50_v1c'
                init = model.backbone.init_cfg
                assert init == dict(type='Pretrained',
                                    checkpoint=cfg.model.pretrained), init
            with torch.no_grad():
                feats = model.extract_feat(torch.rand(1, 3, 64, 64))
            print([tuple(f.shape) for f in feats])
            model.backbone.init_cfg = dict(
                type='Pretrained', checkpoint={server.url + "/resnet.pth"!r})
            try:
                model.init_weights()
            except CheckpointError as err:
                print('refused:', err)
            else:
                raise AssertionError('a ResNet checkpoint loaded')
        ''')], tmp_path)
