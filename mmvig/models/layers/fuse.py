"""Deploy-time fusion for inference: norms folded into the convs before
them, GELU applied inside the conv that feeds it."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import fuse_conv_bn

from mmvig.ops import capturing_graph
from .conv_norm import ConvNorm
from .axial_blocks import ConditionalPosEncoding

# The oneDNN conv with a fused activation (what torch.compile emits on CPU).
_ONEDNN_CONV_ACT = torch.backends.mkldnn.is_available() and hasattr(
    torch.ops.mkldnn, '_convolution_pointwise')


class ConvGELU(nn.Module):
    """``GELU(conv(x))`` as one oneDNN primitive on CPU, GELU as a post-op:
    the conv's output is written once instead of written, read and written
    again. Where that primitive does not apply (another device or dtype,
    gradients wanted, or a graph being exported or compiled) it runs as the
    two ops it replaces."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv

    def forward(self, x):
        conv = self.conv
        if (_ONEDNN_CONV_ACT and x.device.type == 'cpu'
                and x.dtype == torch.float32 and not torch.is_grad_enabled()
                and not capturing_graph()):
            return torch.ops.mkldnn._convolution_pointwise(
                x, conv.weight, conv.bias, conv.padding, conv.stride,
                conv.dilation, conv.groups, 'gelu', [], 'none')
        return F.gelu(conv(x))


def fuse_conv_norm_act(module):
    """Re-parameterise every conditional position encoding ``x + conv(x)``
    into its conv, fold every batch norm into the conv before it (mmcv's
    ``fuse_conv_bn``), then fuse the exact GELU of each :class:`ConvNorm`
    whose norm was folded into its conv. Outputs stay equal up to float
    rounding; the result is for inference only.

    Returns:
        nn.Module: ``module``, fused in place.
    """
    for layer in module.modules():
        if isinstance(layer, ConditionalPosEncoding):
            layer.reparameterize()
    fuse_conv_bn(module)
    for layer in list(module.modules()):
        if (isinstance(layer, ConvNorm) and isinstance(layer.norm, nn.Identity)
                and isinstance(getattr(layer, 'act', None), nn.GELU)
                and layer.act.approximate == 'none'):
            layer.conv, layer.act = ConvGELU(layer.conv), nn.Identity()
    return module
