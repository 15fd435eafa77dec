import importlib

import pytest
import torch
from mmpretrain.models.backbones.vig import GraphConv2d

from mmvig.models.layers import GraphConv
from mmvig.ops import gather_neighbours, max_relative
from ..helpers import assert_close_rounding

graph_conv_module = importlib.import_module('mmvig.ops.graph_conv')


def _randomize(module):
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    if hasattr(module, 'eps') and isinstance(module.eps, torch.nn.Parameter):
        module.eps.data.fill_(0.3)


def _mmvig_names(state_dict):
    renamed = {}
    for key, value in state_dict.items():
        key = key.replace('gconv.', '')
        for nn_name in ('nn1', 'nn2', 'nn'):
            key = key.replace(f'{nn_name}.0.', f'{nn_name}.conv.')
            key = key.replace(f'{nn_name}.1.', f'{nn_name}.norm.')
        renamed[key] = value
    return renamed


def test_gather_neighbours():
    y = torch.arange(2 * 3 * 5.).view(2, 3, 5)
    index = torch.tensor([[[4, 0]], [[1, 1]]])
    out = gather_neighbours(y, index)
    assert out.shape == (2, 1, 2, 3)
    assert torch.equal(out[0, 0, 0], y[0, :, 4])
    assert torch.equal(out[1, 0, 1], y[1, :, 1])


def plain_max_relative(x, y, index):
    """The formulation of the authors' code: gather, subtract, max,
    interleave."""
    relative = (gather_neighbours(y, index) - x.transpose(1, 2)[:, :, None])
    nodes = torch.stack([x.transpose(1, 2), relative.amax(2)], dim=3)
    return nodes.flatten(2)


@pytest.mark.parametrize('chunk_bytes', [4, 64, 2**20])
@pytest.mark.parametrize('channels_last', [False, True])
def test_max_relative_equals_the_plain_formulation(chunk_bytes,
                                                   channels_last,
                                                   monkeypatch):
    monkeypatch.setattr(graph_conv_module, 'MAX_RELATIVE_CHUNK_BYTES',
                        chunk_bytes)
    x, y = torch.randn(3, 6, 7), torch.randn(3, 6, 11)
    if channels_last:  # the backbone's layout: each node's channels a row
        x, y = (t.transpose(1, 2).contiguous().transpose(1, 2)
                for t in (x, y))
    index = torch.randint(0, 11, (3, 7, 5))
    got = max_relative(x, y, index)
    assert got.shape == (3, 7, 12)
    assert torch.equal(got, plain_max_relative(x, y, index))


def test_max_relative_gradients(monkeypatch):
    monkeypatch.setattr(graph_conv_module, 'MAX_RELATIVE_CHUNK_BYTES', 64)
    x = torch.randn(2, 4, 13, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 4, 9, dtype=torch.float64, requires_grad=True)
    index = torch.randint(0, 9, (2, 13, 3))
    torch.autograd.gradcheck(lambda a, b: max_relative(a, b, index), (x, y))
    # The same gradients as autograd through the plain formulation; the
    # maximum's neighbour alone gets the gradient.
    grad = torch.randn(2, 13, 8, dtype=torch.float64)
    ours = torch.autograd.grad(max_relative(x, y, index), (x, y), grad)
    expected = torch.autograd.grad(plain_max_relative(x, y, index), (x, y),
                                   grad)
    # Each gradient sums at most k = 3 contributions, in another order.
    for got, ref in zip(ours, expected):
        assert_close_rounding(got, ref, 3)


@pytest.mark.parametrize('conv_type', ['mr', 'edge', 'sage', 'gin'])
@pytest.mark.parametrize('with_keys', [False, True])
def test_equals_mmpretrain(conv_type, with_keys):
    channels, nodes, num_keys, k = 16, 30, 12, 5
    reference = GraphConv2d(channels, 2 * channels, conv_type,
                            act_cfg=dict(type='GELU'),
                            norm_cfg=dict(type='BN'))
    _randomize(reference)
    ours = GraphConv(channels, 2 * channels, conv_type)
    ours.load_state_dict(_mmvig_names(reference.state_dict()))
    # In float64 the two formulations differ by rounding alone, far below
    # any difference of formulation.
    reference.double().eval(), ours.double().eval()

    x = torch.randn(2, channels, nodes, dtype=torch.float64)
    y = torch.randn(2, channels, num_keys, dtype=torch.float64) \
        if with_keys else x
    index = torch.randint(0, y.shape[-1], (2, nodes, k))
    centre = torch.arange(nodes).view(1, nodes, 1).expand(2, nodes, k)
    expected = reference(x.unsqueeze(-1), torch.stack([index, centre]),
                         y.unsqueeze(-1) if with_keys else None)
    got = ours(x, y, index)
    assert got.shape == (2, 2 * channels, nodes)
    # Sums along the way: k neighbours, two convs of up to 2C products.
    assert_close_rounding(got, expected.flatten(2), k + 4 * channels)


def test_mr_parameter_count_and_unknown_type():
    conv = GraphConv(192, 384, 'mr')
    # grouped 1x1 conv 2C -> 2C (groups 4) + bias, BN
    assert sum(p.numel() for p in conv.parameters()) == \
        384 * 384 // 4 + 384 + 2 * 384
    with pytest.raises(ValueError, match="unknown graph conv type 'max'"):
        GraphConv(8, 16, 'max')
