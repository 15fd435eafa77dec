"""Checkpoint loading: layouts, strictness, safety, URLs."""
import os
import pickle
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from mmpretrain.models.backbones import PyramidVig

from mmvig import checkpoint as mmvig_checkpoint
from mmvig.analysis import randomize_norms
from mmvig.checkpoint import (CheckpointError, load_file,
                              load_pretrained_backbone, to_mmvig_layout)
from mmvig.analysis import randomize_norms
from mmvig.models import PyramidViG, ViG
from .helpers import ROOT, LocalHTTPServer
from .test_models.vig_reference import authors_layout, random_authors_head


@pytest.fixture(scope='module')
def reference_tiny():
    torch.manual_seed(0)
    model = PyramidVig('tiny')
    randomize_norms(model)
    return model.state_dict()


def _expected(reference_sd):
    converted, _, _ = to_mmvig_layout(
        {f'backbone.{k}': v for k, v in reference_sd.items()})
    return {k[9:]: v for k, v in converted.items()}


def _assert_loaded(model, expected):
    state = model.state_dict()
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in state)


@pytest.mark.parametrize('wrap', ['raw', 'model', 'legacy', 'mmpretrain'])
def test_loads_authors_and_mmpretrain_files(tmp_path, reference_tiny, wrap):
    depths = [2, 2, 6, 2]
    if wrap == 'mmpretrain':
        content = dict(state_dict={f'backbone.{k}': v
                                   for k, v in reference_tiny.items()},
                       meta=dict(epoch=300))
        path = tmp_path / 'pvig-tiny_3rdparty_in1k.pth'
    else:
        sd = authors_layout(reference_tiny, depths)
        content = dict(model=sd) if wrap == 'model' else sd
        path = tmp_path / 'pvig_ti_78.5.pth.tar'
    torch.save(content, path,
               _use_new_zipfile_serialization=wrap != 'legacy')
    model = PyramidViG('tiny', init_cfg=dict(type='Pretrained',
                                             checkpoint=str(path)))
    model.init_weights()
    _assert_loaded(model, _expected(reference_tiny))


def test_strict_loading_names_missing_and_unexpected_keys(tmp_path,
                                                           reference_tiny):
    sd = _expected(reference_tiny)
    del sd['stages.0.blocks.0.ffn.fc1.conv.weight']
    sd['stages.0.blocks.0.extra'] = torch.zeros(1)
    torch.save(sd, tmp_path / 'partial.pth')
    with pytest.raises(CheckpointError) as err:
        load_pretrained_backbone(PyramidViG('tiny'),
                                 str(tmp_path / 'partial.pth'))
    assert 'missing keys' in str(err.value)
    assert 'stages.0.blocks.0.ffn.fc1.conv.weight' in str(err.value)
    assert "unexpected keys: ['stages.0.blocks.0.extra']" in str(err.value)


def test_wrong_arch_names_mismatched_shapes(tmp_path, reference_tiny):
    torch.save(authors_layout(reference_tiny, [2, 2, 6, 2]),
               tmp_path / 'pvig_ti.pth')
    with pytest.raises(CheckpointError,
                       match=r'(?s)another arch.*stem\.0\.conv\.weight: '
                       r'checkpoint \(24, 3, 3, 3\) vs model \(40, 3, 3, 3\)'):
        load_pretrained_backbone(PyramidViG('small'),
                                 str(tmp_path / 'pvig_ti.pth'))


def test_another_architecture_is_refused_by_name(tmp_path):
    """A ResNet checkpoint left in ``pretrained=`` / ``init_cfg`` by a base
    config (mmseg's ``open-mmlab://resnet50_v1c``)."""
    import torchvision
    torch.save(torchvision.models.resnet18().state_dict(),
               tmp_path / 'resnet18.pth')
    with pytest.raises(CheckpointError,
                       match=r"holds no weights of PyramidViG: none of its "
                       r"\d+ tensors under the prefix '' \(e\.g\. "
                       r"\['bn1\.bias'.*another architecture, like the ResNet"):
        load_pretrained_backbone(PyramidViG('tiny'),
                                 str(tmp_path / 'resnet18.pth'))


def test_unused_head_keys_are_reported(tmp_path, reference_tiny):
    sd = {f'backbone.{k}': v for k, v in _expected(reference_tiny).items()}
    sd['head.fc2.weight'] = torch.zeros(10, 1024)
    torch.save(dict(state_dict=sd), tmp_path / 'cls.pth')
    report = load_pretrained_backbone(PyramidViG('tiny'),
                                      str(tmp_path / 'cls.pth'))
    assert "unused: ['head.fc2.weight']" in report


@pytest.fixture(params=['torch', 'mmvig'])
def unpickler(request, monkeypatch):
    """Both weights-only paths: torch's with extra safe globals (torch >=
    2.6; older torch falls back to mmvig's in both runs) and mmvig's own
    restricted unpickler (what torch < 2.6 gets)."""
    if request.param == 'mmvig':
        monkeypatch.setattr(mmvig_checkpoint, 'TORCH_HAS_SAFE_GLOBALS', False)
    return request.param


def test_truncated_and_foreign_files_are_refused(tmp_path, unpickler):
    torch.save({'w': torch.randn(100, 100)}, tmp_path / 'ok.pth')
    data = (tmp_path / 'ok.pth').read_bytes()
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match='truncated'):
        load_file(str(tmp_path / 'cut.pth'))
    (tmp_path / 'notes.txt').write_text('not a checkpoint\n' * 10)
    with pytest.raises(CheckpointError, match='is not a PyTorch checkpoint'):
        load_file(str(tmp_path / 'notes.txt'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_file(str(tmp_path / 'missing.pth'))


class _RunsCode:
    def __reduce__(self):
        return (os.system, ('touch PWNED',))


class _GetattrBeyondStatistics:
    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


def test_checkpoint_that_runs_code_is_refused(tmp_path, monkeypatch,
                                              unpickler):
    monkeypatch.chdir(tmp_path)
    torch.save({'state_dict': {}, 'meta': _RunsCode()}, 'evil.pth')
    with pytest.raises(CheckpointError, match='could run code'):
        load_file('evil.pth')
    assert not (tmp_path / 'PWNED').exists()
    with open('evil.pkl', 'wb') as f:
        pickle.dump(_RunsCode(), f)
    with pytest.raises(CheckpointError):
        load_file('evil.pkl')
    # getattr is allowed only for HistoryBuffer's statistics methods
    torch.save({'meta': _GetattrBeyondStatistics()}, 'evil_getattr.pth')
    with pytest.raises(CheckpointError, match='could run code'):
        load_file('evil_getattr.pth')
    assert not (tmp_path / 'PWNED').exists()


def test_mmengine_style_metadata_loads(tmp_path, unpickler):
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.5))
    buffer.update(1.25)
    checkpoint = dict(
        state_dict={'w': torch.ones(2)},
        meta=dict(epoch=3, seed=np.int64(7), lr=np.float32(0.1),
                  history=np.arange(4.)),
        message_hub=dict(log_scalars={'train/loss': buffer},
                         runtime_info={'iter': 12, 'max': np.float64(2.)}))
    torch.save(checkpoint, tmp_path / 'epoch_3.pth')
    loaded = load_file(str(tmp_path / 'epoch_3.pth'))
    assert loaded['meta']['seed'] == 7
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 0.875
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


def test_mmengine_checkpoint_loads_in_a_fresh_process(tmp_path):
    """HistoryBuffer registers its statistics methods only when the first
    buffer is created; a process that has made none must still load the
    message hub."""
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(2.0)
    torch.save(dict(state_dict={}, message_hub=dict(
        log_scalars={'train/loss': buffer})), tmp_path / 'epoch_1.pth')
    code = ('from mmengine.logging import HistoryBuffer\n'
            'from mmvig.checkpoint import load_file\n'
            'assert not HistoryBuffer._statistics_methods\n'
            f'hub = load_file({str(tmp_path / "epoch_1.pth")!r})'
            "['message_hub']\n"
            "print(hub['log_scalars']['train/loss'].mean())\n")
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '2.0'


def test_pretrained_from_url(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    source = ViG(dict(depth=2, channels=32))
    torch.nn.init.normal_(source.pos_embed)
    torch.save({'state_dict': {f'backbone.{k}': v
                               for k, v in source.state_dict().items()}},
               tmp_path / 'vig-mini.pth')
    with LocalHTTPServer(tmp_path) as server:
        model = ViG(dict(depth=2, channels=32),
                    init_cfg=dict(type='Pretrained',
                                  checkpoint=f'{server.url}/vig-mini.pth'))
        model.init_weights()
    assert torch.equal(model.pos_embed, source.pos_embed)
    assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
            'vig-mini.pth').is_file()


def test_mmengine_loads_authors_file_into_classifier(tmp_path,
                                                     reference_tiny):
    from mmengine.runner import load_checkpoint
    from mmpretrain.models import ImageClassifier

    head_sd = random_authors_head(384)
    torch.save(authors_layout(reference_tiny, [2, 2, 6, 2], head_sd),
               tmp_path / 'pvig_ti_78.5.pth.tar')
    model = ImageClassifier(
        backbone=dict(type='mmvig.PyramidViG', arch='tiny'),
        head=dict(type='mmvig.ViGClsHead', num_classes=1000,
                  in_channels=384))
    load_checkpoint(model, str(tmp_path / 'pvig_ti_78.5.pth.tar'),
                    strict=True)
    _assert_loaded(model.backbone, _expected(reference_tiny))
    assert torch.equal(model.head.fc1.weight, head_sd['fc1.weight'])
    assert torch.equal(model.head.norm.running_var, head_sd['bn.running_var'])


def test_url_downloaded_once_per_node_by_local_rank_0(tmp_path,
                                                      monkeypatch):
    """Local rank 0 downloads; another rank of the node waits for the file
    (no collective, no request of its own)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(mmvig_checkpoint, 'DOWNLOAD_POLL_SECONDS', 0.01)
    torch.save({'w': torch.arange(3.)}, tmp_path / 'w.pth')
    with LocalHTTPServer(tmp_path) as server:
        url = f'{server.url}/w.pth'
        monkeypatch.setenv('LOCAL_RANK', '1')
        waiting = threading.Thread(target=load_file, args=(url,))
        waiting.start()
        time.sleep(0.2)
        assert waiting.is_alive() and server.requests == []
        monkeypatch.setenv('LOCAL_RANK', '0')
        assert torch.equal(load_file(url)['w'], torch.arange(3.))
        waiting.join(timeout=10)
        assert not waiting.is_alive()
        assert load_file(url)['w'].shape == (3,)  # cached: no new request
    assert server.requests == ['/w.pth']
