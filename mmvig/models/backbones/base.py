"""What every Vision GNN backbone shares as an OpenMMLab backbone.

:class:`VisionGNNBase` serves all four families (ViG, Pyramid ViG,
MobileViG, GreedyViG): ``out_indices``, ``frozen_stages``, ``norm_eval``,
``with_cp``, initialisation and checkpoint loading, ``fuse()`` and
layer-wise lr decay. :class:`KNNViGBase` adds what the two KNN families
share: the absolute position embedding resized to the actual grid, and the
warning when an input is too small for a block's ``k * dilation``.

The contract of a subclass:

- ``super().__init__(num_outputs, ...)`` first, then build ``stem``, the
  stages and ``feature_info``, and end with ``self._finish_build()``;
- :attr:`stem_names` and :meth:`_stage_names` name the modules of the stem
  and of each output's stage (what ``frozen_stages`` freezes, and what is
  not run after the last of ``out_indices``);
- :meth:`_layer_groups` lists the layers for lr decay;
- optional parts are ``None`` or ``nn.Identity``.
"""
import math
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from mmvig.ops import capturing_graph
from mmvig.validation import check_int, check_range
from ..layers import fuse_conv_norm_act


def resolve_arch(cls, arch):
    """Settings of a named arch of ``cls.arch_settings`` (each under its
    short and long name, ``'s'`` and ``'small'``) or a dict with the same
    keys."""
    if isinstance(arch, str):
        if arch not in cls.arch_settings:
            raise ValueError(
                f'unknown {cls.__name__} arch {arch!r}; choose from '
                f'{sorted(cls.arch_settings)} or pass a dict with keys '
                f'{sorted(next(iter(cls.arch_settings.values())))}')
        return dict(cls.arch_settings[arch])
    required = set(next(iter(cls.arch_settings.values())))
    if not isinstance(arch, dict) or set(arch) != required:
        raise ValueError(
            f'a custom {cls.__name__} arch must be a dict with exactly the '
            f'keys {sorted(required)}, got {arch!r}')
    return dict(arch)


class VisionGNNBase(BaseModule):
    """Shared behaviour of the Vision GNN backbones.

    Args:
        num_outputs (int): outputs the backbone has (stages; ViG: blocks).
        out_indices (int | Sequence[int]): which outputs to return; negative
            indices count from the end. Stages after the last of them are
            not run, and their parameters are not trainable (they still
            load from a checkpoint), so that every trainable parameter gets
            a gradient (what DDP without ``find_unused_parameters``
            requires).
        frozen_stages (int): freeze (no grad, eval mode) the stem (and
            position embedding) and the first ``frozen_stages`` stages
            (ViG: blocks). 0 or -1 freezes nothing.
        norm_eval (bool): keep norm layers in eval mode during training
            (frozen statistics, as detectors fine-tune with).
        with_cp (bool): recompute each block in the backward pass to save
            memory (``torch.utils.checkpoint``).
        init_cfg (dict, optional): ``None`` for the official initialisation
            (Kaiming normal on every conv, zero bias), or
            ``dict(type='Pretrained', checkpoint=PATH_OR_URL)`` to load the
            authors', mmpretrain's or mmvig's weights (see
            :mod:`mmvig.checkpoint`).
    """

    #: Total downsampling of the last output; smaller inputs are refused.
    min_input_size = 1
    #: Modules before the first stage (frozen with any ``frozen_stages``).
    stem_names = ('stem', )

    def __init__(self, num_outputs, out_indices=-1, frozen_stages=0,
                 norm_eval=False, with_cp=False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.num_outputs = num_outputs
        self.out_indices = self._normalize_out_indices(out_indices)
        if not -1 <= frozen_stages <= num_outputs:
            raise ValueError(
                f'frozen_stages must be in [-1, {num_outputs}] for '
                f'{type(self).__name__}, got {frozen_stages}')
        self.frozen_stages = max(frozen_stages, 0)
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.fused = False

    def _normalize_out_indices(self, out_indices):
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if not isinstance(out_indices, (list, tuple)) or not out_indices:
            raise TypeError(
                f'out_indices must be an int or a non-empty sequence of ints, '
                f'got {out_indices!r}')
        normalized = []
        for index in out_indices:
            if not -self.num_outputs <= index < self.num_outputs:
                raise ValueError(
                    f'out_indices {index} is out of range for '
                    f'{type(self).__name__} with {self.num_outputs} outputs '
                    f'(valid: {-self.num_outputs} .. {self.num_outputs - 1})')
            normalized.append(index % self.num_outputs)
        if len(set(normalized)) != len(normalized):
            raise ValueError(f'out_indices has duplicates: {out_indices!r}')
        return sorted(normalized)

    # -- subclass interface -------------------------------------------------
    def _stage_names(self):
        """``[[name, ...], ...]``: module names of each output's stage (ViG:
        its block), in order."""
        raise NotImplementedError

    def _layer_groups(self):
        """``[[name, ...], ...]``: parameter-name prefixes of each layer in
        forward order, from the stem (layer 0) to the last block; each layer
        has one lr-decay depth."""
        raise NotImplementedError

    # -- input handling -----------------------------------------------------
    def _check_input(self, x):
        if x.dim() != 4:
            raise ValueError(
                f'{type(self).__name__} expects images (B, C, H, W), got a '
                f'tensor of shape {tuple(x.shape)}')
        height, width = x.shape[-2:]
        # A traced graph holds no checks: its sizes are tensors (the export
        # tool checks its sizes itself).
        if not torch.jit.is_tracing() and min(
                height, width) < self.min_input_size:
            raise ValueError(
                f'{type(self).__name__} needs inputs of at least '
                f'{self.min_input_size}x{self.min_input_size} pixels (its '
                f'output stride); got {height}x{width}. Resize or pad the '
                f'image.')

    @staticmethod
    def _output(x):
        """A returned feature map, back in the default memory format:
        consumers such as mmcv's CPU RoIAlign read raw memory as NCHW."""
        return x.contiguous()

    def _staged_layer_groups(self):
        """:meth:`_layer_groups` of a backbone of ``self.stages`` (each with
        ``blocks``, and a ``downsample`` after the first): the stem, then
        one group per block, a downsample sharing its next block's."""
        groups = [list(self.stem_names)]
        for i, stage in enumerate(self.stages):
            for j in range(len(stage.blocks)):
                names = [f'stages.{i}.blocks.{j}']
                if i > 0 and j == 0:
                    names.insert(0, f'stages.{i}.downsample')
                groups.append(names)
        return groups

    def _forward_stages(self, x):
        """Run ``self.stages`` (a ``downsample`` before each but the first)
        on the embedded ``x`` up to the last of ``out_indices``; their
        outputs."""
        outs = []
        for i, stage in enumerate(self.stages[:self.out_indices[-1] + 1]):
            if i > 0:
                x = stage.downsample(x)
            for block in stage.blocks:
                x = self._run(block, x)
            if i in self.out_indices:
                outs.append(self._output(x))
        return tuple(outs)

    def _run(self, block, x):
        if self.with_cp and self.training and torch.is_grad_enabled():
            return checkpoint(block, x, use_reentrant=False)
        return block(x)

    # -- training behaviour -------------------------------------------------
    def _freeze_stages(self):
        """Freeze the stem and the first ``frozen_stages`` stages (eval
        mode, no gradient), and take the stages after the last output out of
        training (they are not run)."""
        stages = self._stage_names()
        frozen = list(self.stem_names) * bool(self.frozen_stages) + [
            name for names in stages[:self.frozen_stages] for name in names]
        unused = [name for names in stages[self.out_indices[-1] + 1:]
                  for name in names]
        modules = dict(self.named_modules())
        for name in frozen + unused:
            if name in modules:
                if name in frozen:
                    modules[name].eval()
                params = modules[name].parameters()
            else:
                params = [self.get_parameter(name)]
            for param in params:
                param.requires_grad = False

    def _finish_build(self):
        """The end of a subclass's ``__init__``: freeze what is frozen, and
        say which stages ``out_indices`` leaves out."""
        self._freeze_stages()
        if self.out_indices[-1] < self.num_outputs - 1:
            print_log(
                f'{type(self).__name__}: out_indices={self.out_indices} '
                f'ends before output {self.num_outputs - 1}; the stages '
                f'after {self.out_indices[-1]} are not run and not trained '
                f'(their weights still load).', logger='current')

    def fuse(self):
        """Fuse for inference (the deploy model): every batch norm folded
        into the conv before it, GELU into the conv feeding it (see
        :func:`~mmvig.models.layers.fuse_conv_norm_act`).

        The outputs stay equal up to float rounding, and inference is faster
        (passes over feature maps saved). The norm layers are gone, so the
        model refuses ``train()``, and its state_dict no longer has a
        checkpoint layout.

        Returns:
            VisionGNNBase: ``self``, fused and in eval mode.
        """
        fuse_conv_norm_act(self.eval())
        self.fused = True
        return self

    def train(self, mode=True):
        if mode and self.fused:
            raise RuntimeError(
                f'this {type(self).__name__} was fused for inference '
                f'(fuse()); build a new one to train')
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def init_weights(self):
        if self.init_cfg is not None and self.init_cfg.get(
                'type') == 'Pretrained':
            from mmvig.checkpoint import load_pretrained_backbone
            load_pretrained_backbone(self, self.init_cfg['checkpoint'],
                                     prefix=self.init_cfg.get('prefix'),
                                     ema=self.init_cfg.get('ema', False))
            self._is_init = True
        elif self.init_cfg is None:
            # The authors' initialisation: Kaiming normal (fan-in) on every
            # conv, zero bias; norm layers and pos-embed keep their defaults.
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
            self._is_init = True
        else:
            super().init_weights()

    def get_layer_depth(self, param_name, prefix=''):
        """Depth of a parameter for layer-wise learning-rate decay.

        The stem and position embedding are layer 0, each block one layer
        (a downsample shares the depth of the block after it), and anything
        outside the backbone (the head) is the last layer.

        Returns:
            tuple[int, int]: the parameter's depth and the number of layers.
        """
        groups = self._layer_groups()
        num_layers = len(groups) + 1
        if param_name.startswith(prefix):
            name = param_name[len(prefix):]
            for depth, names in enumerate(groups):
                if any(name == n or name.startswith(n + '.') for n in names):
                    return depth, num_layers
        return num_layers - 1, num_layers

    @property
    def out_channels(self):
        """Channels of each returned output, in order."""
        return [info['channels'] for info in self.feature_info]


class KNNViGBase(VisionGNNBase):
    """What ViG and Pyramid ViG add: Graphers over neighbour lists (one graph
    builder each, from ``graph_cfg``), an absolute position embedding for
    ``train_size`` resized to the actual grid, and a warning when an input
    is too small for a block's graph.

    Args:
        num_outputs, out_indices, frozen_stages, norm_eval, with_cp,
            init_cfg: see :class:`VisionGNNBase`.
        train_size (int): input size the position embedding is stored for
            (and the graphs are designed for).
    """

    stem_names = ('stem', 'pos_embed')

    def __init__(self, num_outputs, train_size=224, **kwargs):
        super().__init__(num_outputs, **kwargs)
        self.train_size = check_int('train_size', train_size,
                                    self.min_input_size,
                                    owner=type(self).__name__)
        self._sizes_seen = set()  # input sizes checked for shrunk graphs

    def _block_graph_cfg(self, graph_cfg, k, dilation):
        """``graph_cfg`` of one block: the backbone's schedule sets ``k`` and
        ``dilation``."""
        owner = type(self).__name__
        if not isinstance(graph_cfg, dict):
            raise TypeError(f'{owner}: graph_cfg must be a dict with a '
                            f'type, e.g. dict(type=\'mmvig.KNNGraph\'), got '
                            f'{graph_cfg!r}')
        for key in ('k', 'dilation'):
            if key in graph_cfg:
                raise ValueError(
                    f'{owner}: graph_cfg sets {key!r}, which the backbone '
                    f'schedules per block; set k=... (and use_dilation) on '
                    f'the backbone instead')
        return dict(graph_cfg, k=k, dilation=dilation)

    def _check_args(self, in_channels, k, drop_path_rate):
        owner = type(self).__name__
        check_int('in_channels', in_channels, owner=owner)
        check_int('k', k, owner=owner)
        check_range('drop_path_rate', drop_path_rate, 0, 1, high_open=True,
                    owner=owner)

    def _graph_layers(self):
        """``[(grapher, stride), ...]``: each block's Grapher and the output
        stride of its nodes."""
        raise NotImplementedError

    def _check_input(self, x):
        super()._check_input(x)
        height, width = x.shape[-2:]
        # No warning in a captured graph: the record of sizes seen would
        # recompile it once per size.
        if not capturing_graph() and not torch.jit.is_tracing() and (
                height, width) not in self._sizes_seen:
            self._sizes_seen.add((height, width))
            self._warn_if_graphs_shrink(height, width)

    def _graph_keys(self, height, width, grapher, stride):
        """Keys of ``grapher``'s graph for a ``height x width`` input: the
        stride-2 convs and the key pooling round up (ceil mode)."""
        size = stride * grapher.reduce_ratio
        return math.ceil(height / size) * math.ceil(width / size)

    def _warn_if_graphs_shrink(self, height, width):
        """Blocks whose ``k * dilation`` exceeds the keys of this input get
        fewer neighbours or less dilation (:meth:`KNNGraph.clamped`) than at
        ``train_size``, the size the model was built for; say so once per
        model and input size."""
        shrunk, designed = [], 0
        for i, (grapher, stride) in enumerate(self._graph_layers()):
            graph = grapher.graph
            side = stride * grapher.reduce_ratio * math.ceil(
                math.sqrt(graph.k * graph.dilation))
            designed = max(designed, side)
            here = graph.clamped(
                self._graph_keys(height, width, grapher, stride))
            trained = graph.clamped(
                self._graph_keys(self.train_size, self.train_size, grapher,
                                 stride))
            if here != trained:
                shrunk.append(f'block {i}: k={trained[0]}, dilation='
                              f'{trained[1]} -> k={here[0]}, dilation='
                              f'{here[1]}')
        if shrunk:
            designed = min(designed, self.train_size)
            warnings.warn(
                f'{type(self).__name__}: a {height}x{width} input has fewer '
                f'graph keys than k * dilation in {len(shrunk)} of its '
                f'blocks, which use smaller graphs than at train_size='
                f'{self.train_size} ({shrunk[0]}'
                f'{"; ..." if len(shrunk) > 1 else ""}). Inputs of at least '
                f'{designed}x{designed} keep every graph as designed. (Said '
                f'once per model and input size.)', stacklevel=3)

    def _embed(self, x):
        """Stem plus the absolute position embedding, resized (bicubic) to
        the actual grid.

        Features are channels-last from the stem on (still ``(B, C, H, W)``
        tensors): the convs run several times faster on CPU that way, and
        the graph ops read each node's channels as one contiguous row.
        """
        x = self.stem(x.contiguous(memory_format=torch.channels_last))
        pos = self.pos_embed
        # A captured graph resizes for any grid (the identity at the stored
        # size: bicubic weights 0, 1, 0, 0).
        if capturing_graph() or pos.shape[-2:] != x.shape[-2:]:
            pos = F.interpolate(
                pos, size=x.shape[-2:], mode='bicubic', align_corners=False)
        return (x + pos).contiguous(memory_format=torch.channels_last)
