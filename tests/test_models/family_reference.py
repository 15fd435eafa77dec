"""A plain reference for MobileViG, GreedyViG, MobileViGv2 and AdaptViG,
written from the papers and
the facts in ``tests/data/vig_family_state_dicts.json`` (the authors' model
state_dict keys and shapes): a function of the authors' state dict as it
is, conv by conv, with the graphs built by explicit neighbour lists (mmvig
rolls feature maps instead).

- MobileViG (arXiv:2307.00395): SVGA links node ``(h, w)`` to ``(h - s, w)``
  and ``(h, w - s)`` modulo the grid, ``s = K, 2K, ...``; the aggregate is
  ``max(0, max_j (x_i - x_j))``, concatenated after ``x``.
- GreedyViG (arXiv:2405.06849): DAGA keeps a candidate if its L1 distance is
  below ``mean - std`` (unbiased) of the distances between each node and
  the node ``(ceil(H/2), ceil(W/2))`` before it; the aggregate is
  ``max(0, max_kept (x_j - x_i))``.
- MobileViGv2 (arXiv:2406.05850): MGC links node ``(h, w)`` to the four
  nodes ``K`` away along its row and column, ``(h -+ K, w)`` and
  ``(h, w -+ K)`` modulo the grid, a direction only where ``K`` is below
  the grid's size (else the node itself, as the authors' slicing gives);
  ``max(0, max_j (x_j - x_i))``. Graph blocks start with ``x + dwconv7(x)``.
- AdaptViG (arXiv:2511.09942): the nodes ``K`` rows and ``K`` columns
  before (same rule for ``K`` at or above the size), ungated, and the nodes
  ``2, 4, 8, ... < 2 ** bit_length(size)`` before along each axis, gated by
  ``exp(-L1(x_i - x_j) / (|T| + 1e-6))``: ``max(0, max_j g_j (x_j - x_i))``.
  The last stage's graph is global attention instead: ``max(0, A v - x)``
  with ``A = softmax(LN(q) LN(k)^T / sqrt(C // 4))``.
"""
import json

import torch
import torch.nn.functional as F

from ..helpers import ROOT

FACTS = json.loads(
    (ROOT / 'tests' / 'data' / 'vig_family_state_dicts.json').read_text())
#: mmvig (class name, arch) -> the authors' factory name.
VARIANTS = {
    ('MobileViG', 'ti'): 'mobilevig_ti', ('MobileViG', 's'): 'mobilevig_s',
    ('MobileViG', 'm'): 'mobilevig_m', ('MobileViG', 'b'): 'mobilevig_b',
    ('GreedyViG', 's'): 'GreedyViG_S', ('GreedyViG', 'm'): 'GreedyViG_M',
    ('GreedyViG', 'b'): 'GreedyViG_B',
    ('MobileViGv2', 'ti'): 'mobilevigv2_ti',
    ('MobileViGv2', 's'): 'mobilevigv2_s',
    ('MobileViGv2', 'm'): 'mobilevigv2_m',
    ('MobileViGv2', 'b'): 'mobilevigv2_b',
    ('AdaptViG', 's'): 'AdaptViG_S', ('AdaptViG', 'm'): 'AdaptViG_M',
    ('AdaptViG', 'b'): 'AdaptViG_B',
}
#: The authors' graph stride ``K`` of each stage.
GRAPH_STRIDES = {'greedyvig': (8, 4, 2, 1), 'mobilevigv2': (0, 8, 4, 2),
                 'adaptvig': (8, 4, 2, 1)}


def random_authors_state_dict(name, seed=0):
    """Random weights for every key of the authors' model ``name``, shaped
    as in the facts file; norms and layer scales far from their
    initialisation so that a misplaced one shows."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in FACTS[name]['state_dict'].items():
        leaf = key.rsplit('.', 1)[-1]
        if leaf == 'num_batches_tracked':
            out[key] = torch.tensor(0)
            continue
        if len(shape) == 4 and leaf == 'weight':  # conv: unit gain
            fan_in = shape[1] * shape[2] * shape[3]
            value = torch.randn(shape, generator=gen) / fan_in**0.5
        elif leaf in ('running_var', ) or (leaf == 'weight'
                                           and len(shape) == 1):
            value = 0.5 + torch.rand(shape, generator=gen)
        elif leaf.startswith('layer_scale'):
            value = 0.2 + 0.8 * torch.rand(shape, generator=gen)
        elif leaf == 'temperature':
            # AdaptViG's gate exp(-L1 / |T|): T of the order of an L1
            # distance over C channels keeps the gates away from 0 and 1,
            # and a random sign exercises |T|.
            channels = FACTS[name]['state_dict'][
                key.replace('temperature', 'nn.0.weight')][0]
            value = channels * (0.5 + torch.rand(shape, generator=gen)) * (
                2 * torch.randint(2, shape, generator=gen) - 1)
        else:  # biases, running means
            value = 0.1 * torch.randn(shape, generator=gen)
        out[key] = value
    return out


class Reference:
    """``Reference(name, state_dict)(images)`` -> (stage outputs, averaged
    logits). ``margin`` is the smallest distance of a DAGA distance to its
    threshold (relative to the threshold) seen so far: a decision that
    close could flip under another float rounding."""

    def __init__(self, name, state_dict):
        self.sd = state_dict
        self.family = name.lower().rsplit('_', 1)[0]
        self.margin = float('inf')

    # -- layers ---------------------------------------------------------
    def conv(self, name, x, stride=1):
        weight = self.sd[f'{name}.weight']
        return F.conv2d(x, weight, self.sd.get(f'{name}.bias'), stride,
                        weight.shape[-1] // 2,
                        groups=x.shape[1] // weight.shape[1])

    def bn(self, name, x):
        sd = self.sd
        return F.batch_norm(x, sd[f'{name}.running_mean'],
                            sd[f'{name}.running_var'], sd[f'{name}.weight'],
                            sd[f'{name}.bias'], False, 0., 1e-5)

    def conv_bn(self, conv, norm, x, stride=1, act=False):
        x = self.bn(norm, self.conv(conv, x, stride))
        return F.gelu(x) if act else x

    # -- graphs -----------------------------------------------------------
    @staticmethod
    def axial_neighbours(height, width, stride):
        """``(N, k)`` flat indices of each node's candidates."""
        rows = torch.arange(height).view(-1, 1).expand(height, width)
        cols = torch.arange(width).view(1, -1).expand(height, width)
        lists = [((rows - s) % height) * width + cols
                 for s in range(stride, height, stride)]
        lists += [rows * width + (cols - s) % width
                  for s in range(stride, width, stride)]
        if not lists:
            return torch.zeros(height * width, 0, dtype=torch.long)
        return torch.stack([n.reshape(-1) for n in lists], dim=1)

    def svga(self, x, stride):
        batch, channels, height, width = x.shape
        nodes = x.reshape(batch, channels, -1)
        index = self.axial_neighbours(height, width, stride)
        neighbours = nodes[:, :, index]  # (B, C, N, k)
        relative = nodes.unsqueeze(-1) - neighbours
        best = relative.amax(-1) if index.shape[1] else torch.zeros_like(
            nodes)
        return best.clamp(min=0).view_as(x)

    def daga(self, x, stride):
        batch, channels, height, width = x.shape
        nodes = x.reshape(batch, channels, -1)
        num = height * width
        flat = torch.arange(num)
        rows, cols = flat // width, flat % width
        far = ((rows - (height + 1) // 2) % height) * width + (
            cols - (width + 1) // 2) % width
        dist = (nodes - nodes[:, :, far]).abs().sum(1)  # (B, N)
        mean = dist.mean(1, keepdim=True)
        std = ((dist - mean).square().sum(1, keepdim=True) / (num - 1)).sqrt()
        threshold = (mean - std).unsqueeze(-1)  # (B, 1, 1)
        index = self.axial_neighbours(height, width, stride)
        neighbours = nodes[:, :, index]
        cand = (neighbours - nodes.unsqueeze(-1)).abs().sum(1)  # (B, N, k)
        if cand.numel():
            gap = ((cand - threshold).abs() / threshold.abs()).min().item()
            self.margin = min(self.margin, gap)
        keep = (cand < threshold).unsqueeze(1)
        relative = torch.where(keep, neighbours - nodes.unsqueeze(-1), 0.)
        best = relative.amax(-1) if index.shape[1] else torch.zeros_like(
            nodes)
        return best.clamp(min=0).view_as(x)

    @staticmethod
    def shifted(height, width, drow, dcol):
        """``(N,)`` flat index of the node ``drow`` rows and ``dcol``
        columns before each node, modulo the grid."""
        flat = torch.arange(height * width)
        rows, cols = flat // width, flat % width
        return ((rows - drow) % height) * width + (cols - dcol) % width

    def mgc(self, x, stride):
        batch, channels, height, width = x.shape
        nodes = x.reshape(batch, channels, -1)
        best = torch.zeros_like(nodes)
        for drow, dcol in ((stride, 0), (-stride, 0), (0, stride),
                           (0, -stride)):
            if abs(drow) >= height or abs(dcol) >= width:
                continue  # the authors' slices give the node itself
            neighbours = nodes[:, :, self.shifted(height, width, drow, dcol)]
            best = torch.maximum(best, neighbours - nodes)
        return best.view_as(x)

    def adapt(self, x, stride, temperature):
        batch, channels, height, width = x.shape
        nodes = x.reshape(batch, channels, -1)
        best = torch.zeros_like(nodes)
        if stride < height:
            best = torch.maximum(best, nodes[:, :, self.shifted(
                height, width, stride, 0)] - nodes)
        if stride < width:
            best = torch.maximum(best, nodes[:, :, self.shifted(
                height, width, 0, stride)] - nodes)
        offsets = [(2**i, 0) for i in range(1, height.bit_length())] + [
            (0, 2**i) for i in range(1, width.bit_length())]
        for drow, dcol in offsets:
            neighbours = nodes[:, :, self.shifted(height, width, drow, dcol)]
            dist = (nodes - neighbours).abs().sum(1, keepdim=True)
            gate = torch.exp(-dist / (temperature.abs() + 1e-6))
            best = torch.maximum(best, (neighbours - nodes) * gate)
        return best.view_as(x)

    def attention(self, p, x):
        batch, channels, height, width = x.shape

        def tokens(name, norm=None):
            t = self.conv(f'{p}.{name}', x).flatten(2).transpose(1, 2)
            if norm is None:
                return t
            return F.layer_norm(t, t.shape[-1:], self.sd[f'{p}.{norm}.weight'],
                                self.sd[f'{p}.{norm}.bias'], 1e-5)

        q, k = tokens('q_conv', 'q_norm'), tokens('k_conv', 'k_norm')
        attn = torch.softmax(q @ k.transpose(1, 2) / (channels // 4)**0.5, -1)
        mixed = (attn @ tokens('v_conv')).transpose(1, 2).reshape_as(x)
        return (mixed - x).clamp(min=0)

    # -- blocks -----------------------------------------------------------
    def downsample(self, p, x):
        return self.conv_bn(f'{p}.conv.0', f'{p}.conv.1', x, stride=2)

    def inverted_residual(self, p, x):
        names = (['mlp.fc1', 'mlp.norm1', 'mlp.mid', 'mlp.mid_norm',
                  'mlp.fc2', 'mlp.norm2'] if self.family == 'mobilevig' else
                 ['dws.pw1', 'dws.norm1', 'dws.dw', 'dws.norm2', 'dws.pw2',
                  'dws.norm3'])
        n = [f'{p}.{name}' for name in names]
        h = self.conv_bn(n[0], n[1], x, act=True)
        h = self.conv_bn(n[2], n[3], h, act=True)
        h = self.conv_bn(n[4], n[5], h)
        # MobileViGv2 names it layer_scale_1 (C, 1, 1), the others
        # layer_scale_2 (C,).
        scale = self.sd.get(f'{p}.layer_scale_2',
                            self.sd.get(f'{p}.layer_scale_1'))
        return x + scale.view(1, -1, 1, 1) * h

    def grapher(self, p, x, stride, graph):
        h = self.conv_bn(f'{p}.fc1.0', f'{p}.fc1.1', x)
        h = torch.cat([h, graph(h)], dim=1)
        h = self.conv_bn(f'{p}.graph_conv.nn.0', f'{p}.graph_conv.nn.1', h,
                         act=True)
        return self.conv_bn(f'{p}.fc2.0', f'{p}.fc2.1', h)

    def svga_block(self, p, x):
        x = x + self.grapher(f'{p}.0', x, 2, lambda h: self.svga(h, 2))
        h = self.conv_bn(f'{p}.1.fc1.0', f'{p}.1.fc1.1', x, act=True)
        return x + self.conv_bn(f'{p}.1.fc2.0', f'{p}.1.fc2.1', h)

    def graph_of(self, p, stride):
        """The graph of the block ``p`` of GreedyViG, MobileViGv2 or
        AdaptViG, as a function of the node features."""
        g = f'{p}.mixer.graph_conv'
        if self.family == 'greedyvig':
            return lambda h: self.daga(h, stride)
        if self.family == 'mobilevigv2':
            return lambda h: self.mgc(h, stride)
        if f'{g}.q_conv.weight' in self.sd:
            return lambda h: self.attention(g, h)
        return lambda h: self.adapt(h, stride, self.sd[f'{g}.temperature'])

    def mixer_block(self, p, x, stride):
        h = x + self.conv(f'{p}.mixer.cpe.pe', x)
        h = self.grapher(f'{p}.mixer', h, stride, self.graph_of(p, stride))
        x = x + self.sd[f'{p}.layer_scale_1'].view(1, -1, 1, 1) * h
        h = self.conv_bn(f'{p}.ffn.0', f'{p}.ffn.1', x, act=True)
        h = self.conv_bn(f'{p}.ffn.3', f'{p}.ffn.4', h)
        return x + self.sd[f'{p}.layer_scale_2'].view(1, -1, 1, 1) * h

    # -- model --------------------------------------------------------------
    def entries(self, prefix):
        """Sorted block indices under ``prefix`` (``'local_backbone'``...)."""
        found = {int(k[len(prefix) + 1:].split('.')[0]) for k in self.sd
                 if k.startswith(prefix + '.')}
        return sorted(found)

    def __call__(self, images):
        x = self.conv_bn('stem.stem.0', 'stem.stem.1', images, 2, act=True)
        x = self.conv_bn('stem.stem.3', 'stem.stem.4', x, 2, act=True)
        outs = []
        if self.family == 'mobilevig':
            for prefix in ('local_backbone', 'backbone'):
                for j in self.entries(prefix):
                    p = f'{prefix}.{j}'
                    if f'{p}.conv.0.weight' in self.sd:
                        outs.append(x)  # a stage ends at each downsample
                        x = self.downsample(p, x)
                    elif prefix == 'local_backbone':
                        x = self.inverted_residual(p, x)
                    else:
                        x = self.svga_block(p, x)
        else:
            for stage, stride in zip(self.entries('backbone'),
                                     GRAPH_STRIDES[self.family]):
                for j in self.entries(f'backbone.{stage}'):
                    p = f'backbone.{stage}.{j}'
                    if f'{p}.conv.0.weight' in self.sd:
                        outs.append(x)
                        x = self.downsample(p, x)
                    elif f'{p}.mixer.fc1.0.weight' in self.sd:
                        x = self.mixer_block(p, x, stride)
                    else:
                        x = self.inverted_residual(p, x)
        outs.append(x)
        h = x.mean(dim=(2, 3), keepdim=True)
        h = self.conv_bn('prediction.1', 'prediction.2', h, act=True)
        logits = (self.conv('head', h) + self.conv('dist_head', h)) / 2
        return outs, logits.flatten(1)
