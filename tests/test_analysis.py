import argparse

import pytest
import torch
import torch.nn as nn

from mmvig.analysis import (add_device_args, check_device_args, count_flops,
                            gemm_peak_step, inference_step, peak_memory,
                            precision, time_interleaved, train_step)
from mmvig.models import PyramidViG, ViG, ViGClsHead

PUBLISHED_GFLOPS = {(ViG, 'tiny'): 1.31, (ViG, 'small'): 4.54,
                    (ViG, 'base'): 17.68, (PyramidViG, 'tiny'): 1.71,
                    (PyramidViG, 'small'): 4.57, (PyramidViG, 'medium'): 8.89,
                    (PyramidViG, 'base'): 16.86}


class Classifier(nn.Module):

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.head = ViGClsHead(1000, backbone.out_channels[-1])

    def forward(self, x):
        return self.head(self.backbone(x))


@pytest.mark.parametrize('cls,arch', list(PUBLISHED_GFLOPS))
def test_flops_within_two_percent_of_published(cls, arch):
    flops = count_flops(Classifier(cls(arch)), (1, 3, 224, 224))
    published = PUBLISHED_GFLOPS[(cls, arch)] * 1e9
    assert abs(flops['total'] - published) <= 0.02 * published
    assert flops['knn'] > 0
    assert (flops['relative_pos'] > 0) == (cls is PyramidViG)


def test_peak_memory_counts_what_a_step_holds_at_once():
    def step():
        a = torch.ones(1000, 1000)  # 4 MB
        b = torch.ones(500, 1000)  # 2 MB, while a is alive
        del a, b
        return torch.ones(250, 1000)  # 1 MB, after both were freed

    before = torch.ones(2000, 1000)  # alive before: not counted
    assert peak_memory(step) == 6_000_000
    del before


def test_time_interleaved_gives_each_step_its_median():
    calls = {'a': 0, 'b': 0}

    def counted(name):
        def step():
            calls[name] += 1
        return step

    times = time_interleaved(dict(a=counted('a'), b=counted('b')), reps=3)
    assert set(times) == {'a', 'b'}
    assert all(t >= 0 for t in times.values())
    assert calls == {'a': 4, 'b': 4}  # one warm-up each, then 3 timed


def test_precision_autocasts_or_keeps_full_float32():
    a = torch.randn(8, 8)
    with precision('cpu', 'bfloat16'):
        assert (a @ a).dtype == torch.bfloat16
    torch.set_float32_matmul_precision('high')
    try:
        with precision('cpu'):
            assert torch.get_float32_matmul_precision() == 'highest'
            assert (a @ a).dtype == torch.float32
        assert torch.get_float32_matmul_precision() == 'high'
    finally:
        torch.set_float32_matmul_precision('highest')
    step, flops = gemm_peak_step('cpu', 'bfloat16', size=16)
    assert step().dtype == torch.bfloat16 and flops == 2 * 16**3


@pytest.mark.parametrize('dtype', ['float32', 'bfloat16'])
def test_inference_and_train_steps(dtype):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    x = torch.randn(2, 3, 8, 8)
    weight = model[0].weight.detach().clone()
    out = inference_step(model, x, dtype)()
    assert not model.training and not out.requires_grad
    assert out.dtype == getattr(torch, dtype)
    train_step(model, x, lambda out: out.float().pow(2).mean(), dtype)()
    assert model.training
    assert not torch.equal(model[0].weight, weight)  # SGD stepped


def _device_args(*argv):
    parser = argparse.ArgumentParser(prog='tool')
    add_device_args(parser)
    args = parser.parse_args(argv)
    check_device_args(parser, args)
    return args


def test_device_args(capsys):
    args = _device_args('--dtype', 'float16')
    assert args.device == torch.device('cpu') and args.dtype == 'float16'
    for device, message in [('tpu', '--device tpu: '),
                            ('meta', 'only cpu and cuda are supported')]:
        with pytest.raises(SystemExit):
            _device_args('--device', device)
        assert message in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is here')
def test_device_args_refuse_cuda_without_a_gpu(capsys):
    with pytest.raises(SystemExit):
        _device_args('--device', 'cuda')
    assert 'sees no CUDA device here' in capsys.readouterr().err
