"""mmvig.launch: the config handling and CPU-distributed set-up of the
tools."""
import os
import re
import subprocess
import sys
import textwrap
from argparse import ArgumentParser

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

import mmvig.launch as launch
from mmvig.launch import add_shared_args, prepare_config, setup_distributed
from ..helpers import free_port, load_tool
from .conftest import DIGITS_CONFIG

needs_cpu_only = pytest.mark.skipif(
    torch.cuda.is_available(), reason='the CPU path runs without CUDA only')


def _args(**kwargs):
    """The tools' shared command-line options, defaults overridden."""
    parser = ArgumentParser()
    add_shared_args(parser)
    args = parser.parse_args([])
    args.config = str(DIGITS_CONFIG)
    vars(args).update(kwargs)
    return args


def test_prepare_config_defaults_and_precedence():
    def merge(cfg):
        cfg.train_cfg.max_epochs = 3

    cfg = prepare_config(
        _args(cfg_options={'train_dataloader.num_workers': 2,
                           'train_cfg.max_epochs': 5}),
        ['train_dataloader', 'val_dataloader'], merge=merge)
    assert cfg.work_dir == './work_dirs/pvig-ti_1xb64_digits'
    assert cfg.launcher == 'none'
    assert cfg.train_cfg.max_epochs == 5  # --cfg-options win
    # Persistent workers where there are workers (the digits config has 0).
    assert cfg.train_dataloader.persistent_workers is True
    assert cfg.val_dataloader.persistent_workers is False
    assert cfg.val_dataloader.pin_memory == torch.cuda.is_available()
    assert 'pin_memory' not in cfg.test_dataloader


def test_prepare_config_missing_file():
    with pytest.raises(FileNotFoundError, match='nope.py does not exist'):
        prepare_config(_args(config='configs/nope.py'), [])


def test_setup_distributed_leaves_single_process_runs_alone():
    cfg = Config(dict(launcher='none'))
    setup_distributed(cfg)
    assert 'model_wrapper_cfg' not in cfg and not dist.is_initialized()


@needs_cpu_only
def test_setup_distributed_refuses_cpu_slurm():
    with pytest.raises(ValueError, match='--launcher pytorch'):
        setup_distributed(Config(dict(launcher='slurm')))


# In a process of its own: a gloo group must not outlive the test, and a
# hang must fail the test rather than stall the suite.
GLOO_CHECK = textwrap.dedent('''
    import torch, torch.distributed as dist, torch.nn as nn
    from mmengine.config import Config
    from mmengine.registry import MODEL_WRAPPERS
    from mmvig.launch import setup_distributed
    cfg = Config(dict(launcher='pytorch',
                      env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    setup_distributed(cfg)
    assert dist.get_backend() == 'gloo', dist.get_backend()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg['device_ids'] is None
    # What the Runner then builds: a DDP on the CPU that syncs gradients.
    model = MODEL_WRAPPERS.build(
        cfg.model_wrapper_cfg, default_args=dict(module=nn.Linear(2, 1)))
    model(torch.ones(1, 2)).sum().backward()
    assert torch.equal(model.module.weight.grad, torch.ones(1, 2))
    dist.destroy_process_group()
''')


@needs_cpu_only
def test_setup_distributed_starts_gloo_and_a_device_less_ddp():
    env = dict(os.environ, RANK='0', WORLD_SIZE='1', LOCAL_RANK='0',
               MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()))
    result = subprocess.run([sys.executable, '-c', GLOO_CHECK], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'rank 0 of 1: no CUDA device, running on the CPU with the gloo ' \
        'backend' in result.stdout


def test_test_tool_rejects_missing_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [
        'test.py', str(DIGITS_CONFIG), str(tmp_path / 'none.pth')])
    with pytest.raises(SystemExit) as exit_info:
        load_tool('tools/test.py').main()
    assert exit_info.value.code == 2
    assert 'none.pth does not exist' in capsys.readouterr().err


def test_train_tool_rejects_missing_config(monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['train.py', 'configs/pvig/nope.py'])
    with pytest.raises(SystemExit) as exit_info:
        load_tool('tools/train.py').main()
    assert exit_info.value.code == \
        'error: config file configs/pvig/nope.py does not exist'


BROKEN_CUDA = ('this node has NVIDIA GPUs (/dev/nvidia0) but torch cannot '
               'use CUDA')


@pytest.fixture
def gpu_node_without_cuda(monkeypatch):
    """A node whose driver shows a GPU that torch cannot use."""
    monkeypatch.setattr(launch, 'nvidia_devices', lambda: ['/dev/nvidia0'])
    monkeypatch.setattr(launch.torch.cuda, 'is_available', lambda: False)
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES', raising=False)


def test_gpu_node_without_cuda_is_refused(gpu_node_without_cuda):
    with pytest.raises(RuntimeError, match=re.escape(BROKEN_CUDA)) as error:
        launch.check_cuda()
    assert 'CUDA_VISIBLE_DEVICES= (empty)' in str(error.value)


@pytest.mark.parametrize('visible', ['', '-1'])
def test_cpu_run_asked_for_on_a_gpu_node(gpu_node_without_cuda, monkeypatch,
                                         visible):
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', visible)
    launch.check_cuda()  # no error: the CPU was asked for


def test_cpu_node_runs_on_the_cpu(monkeypatch):
    monkeypatch.setattr(launch, 'nvidia_devices', lambda: [])
    monkeypatch.setattr(launch.torch.cuda, 'is_available', lambda: False)
    launch.check_cuda()  # no error: there is no GPU to miss


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_on_a_gpu_node_without_cuda_fail(gpu_node_without_cuda,
                                               monkeypatch, tmp_path, tool):
    """Neither tool falls back to the CPU there, and ``--amp`` never picks
    the CPU's bfloat16 wrapper."""
    checkpoint = tmp_path / 'model.pth'
    checkpoint.touch()
    argv = [str(DIGITS_CONFIG), '--amp'] if tool == 'train' else \
        [str(DIGITS_CONFIG), str(checkpoint)]
    monkeypatch.setattr(sys, 'argv', [f'{tool}.py'] + argv)
    with pytest.raises(SystemExit) as exit_info:
        load_tool(f'tools/{tool}.py').main()
    assert BROKEN_CUDA in str(exit_info.value.code)


def test_mpi_local_rank_names_the_device(monkeypatch):
    monkeypatch.setenv('OMPI_COMM_WORLD_LOCAL_RANK', '3')
    monkeypatch.setenv('LOCAL_RANK', '0')
    prepare_config(_args(launcher='mpi'), [])
    assert os.environ['LOCAL_RANK'] == '3'
    monkeypatch.delenv('OMPI_COMM_WORLD_LOCAL_RANK')
    with pytest.raises(ValueError, match='start the job with mpirun'):
        prepare_config(_args(launcher='mpi'), [])
