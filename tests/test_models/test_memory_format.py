"""Backbones compute channels-last (the fast layout of CPU convs and of the
graph ops) and return maps in the default NCHW format."""
import pytest
import torch
import torch.nn as nn

from mmvig.models import PyramidViG, ViG


@pytest.mark.parametrize('build', [
    lambda: ViG(dict(depth=2, channels=48), out_indices=(0, 1)),
    lambda: PyramidViG('tiny', out_indices=(0, 1, 2, 3)),
], ids=['vig', 'pvig'])
def test_convs_read_channels_last_and_outputs_are_nchw(build):
    model = build().eval()
    layouts = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(
                lambda m, inputs, out: layouts.append(
                    inputs[0].is_contiguous(memory_format=torch.channels_last)
                    and out.is_contiguous(memory_format=torch.channels_last)))
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 96, 64))
    assert len(layouts) == sum(
        isinstance(m, nn.Conv2d) for m in model.modules())
    assert all(layouts)  # no conv falls back to NCHW (a hidden reorder)
    assert all(out.is_contiguous() for out in outs)
