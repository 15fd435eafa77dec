"""The deploy switch: ``fuse()`` folds the norms into the convs and keeps the
outputs."""
import copy

import pytest
import torch
import torch.nn as nn

from mmvig.models import PyramidViG, ViG
from mmvig.analysis import randomize_norms
from mmvig.models.layers import ConvGELU
from mmvig.ops import graph_builders
from mmvig.ties import record_graphs
from ..helpers import assert_close_rounding


class ReplayGraphs:
    """Hands the recorded graphs of the plain model to the fused model's
    builders (forward hooks), counting the nodes where the fused model found
    other neighbours: folding the norms changes rounding, which may flip a
    near-tied neighbour."""

    def __init__(self, model, graphs):
        self.graphs, self.calls, self.nodes, self.differing = graphs, 0, 0, 0
        for builder in graph_builders(model):
            builder.register_forward_hook(self.replay)

    def replay(self, builder, args, graph):
        recorded = self.graphs[self.calls]
        self.calls += 1
        self.nodes += graph.shape[0] * graph.shape[1]
        self.differing += int((graph != recorded).any(-1).sum())
        return recorded


@pytest.mark.parametrize('build', [
    lambda: ViG(dict(depth=3, channels=48), out_indices=(0, 2)),
    lambda: PyramidViG('tiny', out_indices=(0, 1, 2, 3)),
], ids=['vig', 'pvig'])
def test_fused_model_gives_the_same_outputs(build):
    model = build()
    model.init_weights()
    randomize_norms(model)
    model.eval()
    fused = copy.deepcopy(model).fuse()
    assert not any(isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GELU))
                   for m in fused.modules())
    assert any(isinstance(m, ConvGELU) for m in fused.modules())

    x = torch.randn(2, 3, 224, 160)
    with torch.no_grad():
        with record_graphs(model) as recorded:
            expected = model(x)
        graphs = ReplayGraphs(fused, recorded)
        got = fused(x)
    assert graphs.calls == len(graphs.graphs) > 0
    assert graphs.differing <= 0.01 * graphs.nodes
    assert len(got) == len(expected)
    for out, ref in zip(got, expected):
        torch.testing.assert_close(out, ref, atol=1e-4 * ref.abs().max(),
                                   rtol=0)


def test_fused_model_refuses_training():
    model = PyramidViG('tiny').fuse()
    assert model.fused and not model.training
    with pytest.raises(RuntimeError, match='fused for inference'):
        model.train()
    model.eval()  # evaluation stays allowed


@pytest.mark.parametrize('channels_last', [False, True])
def test_conv_gelu_equals_conv_then_gelu(channels_last):
    conv = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=4)
    fused = ConvGELU(conv)
    x = torch.randn(2, 8, 9, 7)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    expected = torch.nn.functional.gelu(conv(x))
    # Sums of 2 x 9 products and the bias; GELU adds a few roundings.
    magnitude = torch.nn.functional.conv2d(
        x.abs(), conv.weight.abs(), conv.bias.abs(), 2, 1, groups=4).max()
    with torch.no_grad():  # the one-primitive path on CPU
        assert_close_rounding(fused(x), expected, 2 * 9 + 1 + 4, magnitude)
    got = fused(x)  # gradients wanted: the two ops
    got.sum().backward()
    assert_close_rounding(got, expected, 2 * 9 + 1 + 4, magnitude)
    assert conv.weight.grad is not None
