"""Checkpoints: safe loading, the three ViG key layouts, strict loading.

Three layouts of the same weights exist:

- the authors' (``huawei-noah/Efficient-AI-Backbones``): ``stem.convs.{j}``,
  ``pos_embed``, a flat ``backbone.{j}`` list of blocks (``.0`` Grapher,
  ``.1`` FFN) and, for Pyramid ViG, downsamples (``backbone.{j}.conv``),
  head ``prediction.{0,1,4}`` (1x1 convs);
- mmpretrain's converted files: ``backbone.stem.{j}``,
  ``backbone.blocks.{i}.{0,1}`` / ``backbone.stages.{s}.{j}`` (``j = 0`` is
  the downsample of stages ``s > 0``), ``head.{fc1,bn,fc2}``;
- mmvig's: ``backbone.stem.{i}.{conv,norm}``, ``backbone.blocks.{i}`` /
  ``backbone.stages.{s}.{downsample,blocks.{b}}`` with
  ``.grapher`` / ``.ffn`` inside, ``head.{fc1,norm,fc2}``.

MobileViG, GreedyViG, MobileViGv2 and AdaptViG (SLDGroup) have their own:
``stem.stem.{j}``, ``local_backbone.{j}`` / ``backbone.{j}`` (MobileViG) or
``backbone.{stage}.{j}`` (the others), ``prediction``, ``head``,
``dist_head``; their mmdet 2.x detectors and mmseg 0.x segmentors hold the
same under ``backbone.`` next to the neck and heads (whose names mmdet 3 and
mmseg 1 kept).

:func:`to_mmvig_layout` maps the others onto mmvig's. The fixed
``relative_pos`` buffers of the other layouts are dropped with a report:
mmvig regenerates the bias for the actual input size (identically at 224).

Loading is weights-only (a checkpoint cannot run code) with a short
allow-list of the plain data types mmengine puts in its own checkpoints; see
:func:`_safe_globals`. Importing mmvig routes mmengine's local and http(s)
checkpoint loading through :func:`load_file`, so runners, ``load_from``,
``--resume`` and ``init_cfg=dict(type='Pretrained')`` all load safely and
accept the other layouts transparently.
"""
import _compat_pickle
import os
import os.path as osp
import pickle
import re
import time
import zipfile
from collections import OrderedDict

import torch
from mmengine.logging import print_log

# -- key layouts ------------------------------------------------------------

_CONV_NORM = re.compile(r'\b(fc1|fc2|nn|nn1|nn2)\.([01])\.')


def _conv_norm(name):
    """``fc1.0.weight`` -> ``fc1.conv.weight``, ``fc1.1.x`` -> ``fc1.norm.x``
    (the authors' ``Sequential(conv, bn)`` pairs)."""
    return _CONV_NORM.sub(
        lambda m: f'{m.group(1)}.{("conv", "norm")[int(m.group(2))]}.', name)


def _block(rest):
    """Inside a block: ``0.*`` Grapher, ``1.*`` FFN."""
    part, rest = rest.split('.', 1)
    rest = rest.replace('graph_conv.gconv.', 'graph_conv.')
    return ('grapher.' if part == '0' else 'ffn.') + _conv_norm(rest)


def _stem(index, rest):
    """Flat ``[conv, bn, act, conv, bn, act, ...]`` index -> layer part."""
    layer, part = divmod(int(index), 3)
    return f'backbone.stem.{layer}.{("conv", "norm")[part]}.{rest}'


def _family_prefix(keys):
    """``''`` for the SLDGroup ImageNet layout, ``'backbone.'`` for their
    mmdet 2.x detectors, ``None`` for neither."""
    for prefix in ('', 'backbone.'):
        if f'{prefix}stem.stem.0.weight' in keys:
            return prefix
    return None


def _family_layout(keys, prefix):
    """Which of the SLDGroup models a layout under ``prefix`` is: MobileViG
    has ``local_backbone``, AdaptViG a gate ``temperature``, MobileViGv2
    names its first inverted residual's scale ``layer_scale_1`` (GreedyViG:
    ``layer_scale_2``)."""
    if any(k.startswith(f'{prefix}local_backbone.') for k in keys):
        return 'mobilevig'
    if any(k.endswith('.graph_conv.temperature') for k in keys):
        return 'adaptvig'
    if f'{prefix}backbone.0.0.layer_scale_1' in keys:
        return 'mobilevigv2'
    return 'greedyvig'


def detect_layout(state_dict):
    """``'authors'``, ``'mmpretrain'``, ``'mmvig'``, ``'mobilevig'``,
    ``'greedyvig'``, ``'mobilevigv2'``, ``'adaptvig'`` or ``None``."""
    keys = set(state_dict)
    prefix = _family_prefix(keys)
    if prefix is not None:
        return _family_layout(keys, prefix)
    if 'stem.convs.0.weight' in keys and 'pos_embed' in keys:
        return 'authors'
    if 'backbone.stem.0.weight' in keys:
        return 'mmpretrain'
    if 'backbone.stem.0.conv.weight' in keys or 'stem.0.conv.weight' in keys:
        return 'mmvig'
    return None


def _from_authors(state_dict):
    # Pyramid files interleave downsamples (backbone.{j}.conv.*) with blocks.
    entries = sorted({int(k.split('.')[1]) for k in state_dict
                      if k.startswith('backbone.')})
    downsamples = {j for j in entries
                   if f'backbone.{j}.conv.0.weight' in state_dict}
    names, stage, block = {}, 0, 0
    for j in entries:
        if j in downsamples:
            stage, block = stage + 1, 0
            names[j] = f'backbone.stages.{stage}.downsample'
        else:
            names[j] = (f'backbone.stages.{stage}.blocks.{block}'
                        if downsamples else f'backbone.blocks.{block}')
            block += 1

    out = OrderedDict()
    for key, value in state_dict.items():
        parts = key.split('.')
        if key.startswith('stem.convs.'):
            out[_stem(parts[2], '.'.join(parts[3:]))] = value
        elif key == 'pos_embed':
            out['backbone.pos_embed'] = value
        elif key.startswith('backbone.'):
            j, rest = int(parts[1]), '.'.join(parts[2:])
            if j in downsamples:
                out[f'{names[j]}.{_conv_norm("fc1." + rest[5:])[4:]}'] = value
            else:
                out[f'{names[j]}.{_block(rest)}'] = value
        elif key.startswith('prediction.'):
            layer = {'0': 'fc1', '1': 'norm', '4': 'fc2'}[parts[1]]
            if layer != 'norm' and value.dim() == 4:
                value = value.flatten(1)  # 1x1 conv -> linear
            out[f'head.{layer}.{parts[2]}'] = value
        else:
            out[key] = value
    return out


def _from_mmpretrain(state_dict):
    out = OrderedDict()
    for key, value in state_dict.items():
        parts = key.split('.')
        if key.startswith('backbone.stem.'):
            out[_stem(parts[2], '.'.join(parts[3:]))] = value
        elif key.startswith('backbone.blocks.'):
            out[f'backbone.blocks.{parts[2]}.{_block(".".join(parts[3:]))}'] \
                = value
        elif key.startswith('backbone.stages.'):
            stage, j, rest = int(parts[2]), int(parts[3]), '.'.join(parts[4:])
            if stage > 0 and j == 0:
                name = _conv_norm('fc1.' + rest)[4:]
                out[f'backbone.stages.{stage}.downsample.{name}'] = value
            else:
                block = j - 1 if stage > 0 else j
                out[f'backbone.stages.{stage}.blocks.{block}.{_block(rest)}'] \
                    = value
        elif key.startswith('head.bn.'):
            out['head.norm.' + key[len('head.bn.'):]] = value
        else:
            out[key] = value
    return out


# Module paths inside a block or downsample of MobileViG / GreedyViG
# (SLDGroup) -> mmvig's (:mod:`mmvig.models.layers.axial_blocks`).
_FAMILY_MODULES = {
    # inverted residuals: MobileViG's mlp.*, GreedyViG's dws.*
    'mlp.fc1': 'fc1.conv', 'mlp.norm1': 'fc1.norm', 'mlp.mid': 'dw.conv',
    'mlp.mid_norm': 'dw.norm', 'mlp.fc2': 'fc2.conv', 'mlp.norm2': 'fc2.norm',
    'dws.pw1': 'fc1.conv', 'dws.norm1': 'fc1.norm', 'dws.dw': 'dw.conv',
    'dws.norm2': 'dw.norm', 'dws.pw2': 'fc2.conv', 'dws.norm3': 'fc2.norm',
    # MobileViG's graph block: Sequential(Grapher, FFN)
    '0.fc1.0': 'grapher.fc1.conv', '0.fc1.1': 'grapher.fc1.norm',
    '0.graph_conv.nn.0': 'grapher.graph_conv.conv',
    '0.graph_conv.nn.1': 'grapher.graph_conv.norm',
    '0.fc2.0': 'grapher.fc2.conv', '0.fc2.1': 'grapher.fc2.norm',
    '1.fc1.0': 'ffn.fc1.conv', '1.fc1.1': 'ffn.fc1.norm',
    '1.fc2.0': 'ffn.fc2.conv', '1.fc2.1': 'ffn.fc2.norm',
    # GreedyViG's graph block: mixer (Grapher) and ffn
    'mixer.cpe.pe': 'grapher.cpe', 'mixer.fc1.0': 'grapher.fc1.conv',
    'mixer.fc1.1': 'grapher.fc1.norm',
    'mixer.graph_conv.nn.0': 'grapher.graph_conv.conv',
    'mixer.graph_conv.nn.1': 'grapher.graph_conv.norm',
    'mixer.fc2.0': 'grapher.fc2.conv', 'mixer.fc2.1': 'grapher.fc2.norm',
    'ffn.0': 'ffn.0.conv', 'ffn.1': 'ffn.0.norm', 'ffn.3': 'ffn.1.conv',
    'ffn.4': 'ffn.1.norm',
    # AdaptViG's learned graphs: the gate's temperature, global attention
    'mixer.graph_conv': 'grapher.graph',
    **{f'mixer.graph_conv.{name}': f'grapher.graph.{name}'
       for name in ('q_conv', 'k_conv', 'v_conv', 'q_norm', 'k_norm')},
    # downsamples
    'conv.0': 'conv', 'conv.1': 'norm',
}
_FAMILY_HEAD = {'prediction.1': 'head.fc1', 'prediction.2': 'head.norm',
                'head': 'head.fc2', 'dist_head': 'head.fc2_dist'}
# MobileViG: local_backbone.{j} then backbone.{j}; the others:
# backbone.{stage}.{j}. Either way a flat sequence of blocks and downsamples.
_STAGED_ENTRY = re.compile(r'^backbone\.(\d+)\.(\d+)\.')
_FAMILY_ENTRY = {
    'mobilevig': re.compile(r'^(local_backbone|backbone)\.(\d+)\.'),
    'greedyvig': _STAGED_ENTRY, 'mobilevigv2': _STAGED_ENTRY,
    'adaptvig': _STAGED_ENTRY,
}
#: The SLDGroup layouts by name, as reports name them.
FAMILY_LAYOUTS = {'mobilevig': "authors' MobileViG",
                  'greedyvig': "authors' GreedyViG",
                  'mobilevigv2': "authors' MobileViGv2",
                  'adaptvig': "authors' AdaptViG"}


def _family_entries(state_dict, layout):
    """mmvig prefix of each block / downsample prefix, walking them in
    forward order: a downsample (``conv.0``) starts the next stage."""
    pattern = _FAMILY_ENTRY[layout]
    found = {m.group(0)[:-1]: m.groups() for m in map(pattern.match,
                                                       state_dict) if m}

    def order(prefix):
        first, second = found[prefix]
        return (first != 'local_backbone', int(second)) \
            if layout == 'mobilevig' else (int(first), int(second))

    names, stage, block = {}, 0, 0
    for prefix in sorted(found, key=order):
        if f'{prefix}.conv.0.weight' in state_dict:
            stage, block = stage + 1, 0
            names[prefix] = f'backbone.stages.{stage}.downsample'
        else:
            names[prefix] = f'backbone.stages.{stage}.blocks.{block}'
            block += 1
    return names, pattern


def _from_family(state_dict):
    layout, prefix = detect_layout(state_dict), _family_prefix(state_dict)
    # mmdet 2.x detectors: convert the backbone.* part, keep neck and heads.
    out = OrderedDict((k, v) for k, v in state_dict.items()
                      if not k.startswith(prefix))
    state_dict = sub_state_dict(state_dict, prefix)
    names, pattern = _family_entries(state_dict, layout)
    for key, value in state_dict.items():
        module, param = key.rsplit('.', 1)
        entry = pattern.match(key)
        if key.startswith('stem.stem.'):
            index, rest = key[len('stem.stem.'):].split('.', 1)
            out[_stem(index, rest)] = value
        elif module in _FAMILY_HEAD:
            if value.dim() == 4:
                value = value.flatten(1)  # 1x1 conv -> linear
            out[f'{_FAMILY_HEAD[module]}.{param}'] = value
        elif entry:
            name = names[entry.group(0)[:-1]]
            rest = key[entry.end():]
            if '.' not in rest:  # layer scales, (C,) or (C, 1, 1)
                graph_block = f'{entry.group(0)}mixer.fc1.0.weight' in \
                    state_dict
                # Graph blocks' layer_scale_{1,2} -> layer_scale{1,2}; an
                # inverted residual's (_1 or _2) -> layer_scale
                rest = 'layer_scale' + (rest[-1] if graph_block else '')
                out[f'{name}.{rest}'] = value.flatten()
            else:
                module, param = rest.rsplit('.', 1)
                out[f'{name}.{_FAMILY_MODULES[module]}.{param}'] = value
        else:
            out[key] = value
    return out


def to_mmvig_layout(state_dict):
    """Map an authors' or mmpretrain state dict onto mmvig's names.

    Returns:
        tuple[OrderedDict, str, list[str]]: the state dict (classifier-level
        names: ``backbone.*``, ``head.*``), the layout it came in, and the
        names of the dropped ``relative_pos`` buffers.
    """
    layout = detect_layout(state_dict)
    convert = {'authors': _from_authors, 'mmpretrain': _from_mmpretrain,
               **dict.fromkeys(FAMILY_LAYOUTS, _from_family)}
    converted = convert[layout](state_dict) if layout in convert else \
        OrderedDict(state_dict)
    dropped = [k for k in converted if k.endswith('.relative_pos')]
    for key in dropped:
        del converted[key]
    return converted, layout, dropped


# -- safe loading -------------------------------------------------------------


def _history_buffer_getattr(owner, name):
    """Stands in for ``getattr`` while unpickling.

    mmengine's ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. The real ``getattr`` would let a
    crafted file reach any attribute of any allowed object; this one
    resolves only HistoryBuffer's own statistics methods.
    """
    from mmengine.logging import HistoryBuffer
    # The four built-in statistics are registered only when the first
    # HistoryBuffer is created, which a fresh process may not have done yet.
    allowed = {'min', 'max', 'current', 'mean',
               *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refused getattr({owner!r}, {name!r}) while loading a checkpoint')


def _safe_globals():
    """Plain-data types mmengine writes into its checkpoints (``meta``,
    ``message_hub``): numpy arrays, dtypes and scalars, and mmengine's
    ``HistoryBuffer`` / ``ConfigDict``; and ``argparse.Namespace``, the
    training arguments in timm / DeiT training checkpoints (MobileViG's and
    GreedyViG's released files). None of them runs code when unpickled."""
    import argparse

    import numpy as np
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    # numpy 1.26 has a numpy._core stub without multiarray
    multiarray = np._core.multiarray if int(np.__version__.split('.')[0]) >= 2 \
        else np.core.multiarray
    dtype_classes = [type(np.dtype(c)) for c in '?bBhHiIlLqQefdgFDGSUVOMm']
    return [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
        HistoryBuffer, ConfigDict, argparse.Namespace, *dtype_classes,
        (_history_buffer_getattr, 'builtins.getattr')
    ]


#: torch.load(weights_only=True) takes extra globals, (object, name) pairs
#: included, from torch 2.6 on (``torch.serialization.safe_globals``).
TORCH_HAS_SAFE_GLOBALS = tuple(
    int(part) for part in torch.__version__.split('+')[0].split('.')[:2]
) >= (2, 6)

#: What torch's own weights-only unpickler allows for tensors and modules'
#: state (the dtypes and storages are checked by kind below).
_TORCH_DATA = {
    'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2',
    'torch._utils._rebuild_parameter',
    'torch._utils._rebuild_parameter_with_state',
    'torch._utils._rebuild_qtensor', 'torch._utils._rebuild_sparse_tensor',
    'torch.Size', 'torch.device', 'collections.OrderedDict', '_codecs.encode'
}


class _WeightsOnlyUnpickler(pickle.Unpickler):
    """Weights-only unpickling for torch < 2.6: resolves only torch's tensor
    data (:data:`_TORCH_DATA`, dtypes, storages) and :func:`_safe_globals`,
    importing nothing outside torch, numpy, mmengine and the standard
    library's ``collections`` / ``argparse`` / ``_codecs``."""

    def find_class(self, module, name):
        # torch.save writes protocol 2: Python 2 names (__builtin__.getattr)
        module, name = _compat_pickle.NAME_MAPPING.get(
            (module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module),
                             name))
        allowed = _safe_globals()
        renamed = {alias: obj for obj, alias in
                   (a for a in allowed if isinstance(a, tuple))}
        full = f'{module}.{name}'
        if full in renamed:
            return renamed[full]
        if module.split('.')[0] in ('torch', 'numpy', 'mmengine',
                                    'collections', 'argparse', '_codecs'):
            obj = super().find_class(module, name)
            if (full in _TORCH_DATA or isinstance(obj, torch.dtype)
                    or name.endswith('Storage')
                    or any(obj is a for a in allowed)):
                return obj
        raise pickle.UnpicklingError(f'Unsupported global: GLOBAL {full}')


class _WeightsOnlyPickle:
    """The ``pickle_module`` torch.load takes, with the unpickler above."""
    Unpickler = _WeightsOnlyUnpickler
    __name__ = 'mmvig_weights_only_pickle'

    @staticmethod
    def load(file, **kwargs):
        return _WeightsOnlyUnpickler(file, **kwargs).load()


def _torch_load_weights_only(filename, map_location):
    if TORCH_HAS_SAFE_GLOBALS:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    return torch.load(filename, map_location=map_location,
                      weights_only=False, pickle_module=_WeightsOnlyPickle)


class CheckpointError(RuntimeError):
    """A file that is not a usable checkpoint (unreadable, unsafe, or of
    another architecture)."""


#: Seconds between two looks for a checkpoint that the node's local rank 0
#: is downloading, and between two "still waiting" messages.
DOWNLOAD_POLL_SECONDS = 0.5
DOWNLOAD_REPORT_SECONDS = 60


def _download(url):
    """Fetch ``url`` into torch's hub cache once per node and return the
    local path.

    The node's local rank 0 (``LOCAL_RANK``: torchrun, mmengine's Slurm
    launcher and mmvig's MPI set-up set it) downloads; ``torch.hub`` writes
    a temporary file and renames it, so the file appears whole. The other
    ranks of the node look for the file instead of waiting in a collective,
    so that a slow download cannot trip the process group's (NCCL's)
    timeout. If the download fails, local rank 0 raises and the launcher
    stops the job's other processes.
    """
    from torch.hub import download_url_to_file, get_dir
    directory = osp.join(get_dir(), 'checkpoints')
    os.makedirs(directory, exist_ok=True)
    path = osp.join(directory, osp.basename(url.split('?')[0]))
    if osp.isfile(path):
        return path
    if int(os.environ.get('LOCAL_RANK', 0)) == 0:
        print_log(f'Downloading {url} to {path}', logger='current')
        download_url_to_file(url, path, progress=False)
        return path
    start = last_report = time.monotonic()
    while not osp.isfile(path):
        time.sleep(DOWNLOAD_POLL_SECONDS)
        if time.monotonic() - last_report >= DOWNLOAD_REPORT_SECONDS:
            last_report = time.monotonic()
            print(f'local rank {os.environ["LOCAL_RANK"]}: waiting '
                  f'{last_report - start:.0f} s for local rank 0 to download '
                  f'{url} to {path}', flush=True)
    return path


def load_file(filename, map_location='cpu'):
    """Load a checkpoint from a local path or an http(s) URL, weights-only.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file is truncated, not a checkpoint, or holds
            objects that could run code when loaded.
    """
    if filename.startswith(('http://', 'https://')):
        filename = _download(filename)
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        return _torch_load_weights_only(filename, map_location)
    except pickle.UnpicklingError as err:
        found = re.search(r'((?:unsupported global|refused getattr).*)',
                          str(err), re.IGNORECASE)
        if found:
            raise CheckpointError(
                f'refused to load {filename}: it contains objects that could '
                f'run code when unpickled ({found.group(1)}), and mmvig '
                f'loads checkpoints weights-only. If you trust the file, '
                f're-save its state_dict with plain tensors.') from err
        raise CheckpointError(
            f'{filename} is not a PyTorch checkpoint (or is truncated): '
            f'{str(err).strip().splitlines()[-1]}') from err
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile,
            ValueError) as err:
        raise CheckpointError(
            f'{filename} is not a readable PyTorch checkpoint; it may be '
            f'truncated or not a checkpoint at all: {err}') from err


def state_dict_of(checkpoint, ema=False):
    """The state dict inside a checkpoint: ``state_dict``, ``model`` or the
    checkpoint itself; with ``ema``, the EMA weights of a training
    checkpoint (timm's ``state_dict_ema``, DeiT's ``model_ema``)."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f'a checkpoint must be a dict, got {type(checkpoint).__name__}')
    entries = ('state_dict_ema', 'model_ema') if ema else ('state_dict',
                                                           'model')
    for key in entries:
        if key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    if ema:
        raise CheckpointError(
            f'ema=True asks for EMA weights, but the checkpoint has no '
            f'{" or ".join(entries)} entry (keys: {sorted(checkpoint)[:8]}); '
            f'load it with ema=False')
    if not all(torch.is_tensor(v) for v in checkpoint.values()):
        raise CheckpointError(
            'the checkpoint holds neither a state_dict nor a model entry, '
            f'and is no state dict itself (keys: {sorted(checkpoint)[:8]})')
    return checkpoint


def sub_state_dict(state_dict, prefix):
    """The entries under ``prefix`` (e.g. ``'backbone.'``), without it."""
    return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                       if k.startswith(prefix))


def load_state_dict_strict(module, state_dict, source='checkpoint'):
    """Load ``state_dict`` into ``module`` and fail loudly on any mismatch.

    Raises:
        CheckpointError: naming the parameters whose shapes differ (a
            checkpoint of another architecture) or the missing /
            unexpected keys.
    """
    own = module.state_dict()
    mismatched = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state_dict.items() if k in own and v.shape != own[k].shape
    ]
    # BN's num_batches_tracked is a counter, absent from older files; torch
    # fills it in itself.
    missing = [k for k in own if k not in state_dict
               and not k.endswith('.num_batches_tracked')]
    unexpected = [k for k in state_dict if k not in own]
    problems = []
    if mismatched:
        problems.append(
            f'{len(mismatched)} parameters have other shapes (is it a '
            f'checkpoint of another arch?):\n  ' + '\n  '.join(mismatched[:10]))
    if missing:
        problems.append(f'{len(missing)} missing keys: {missing[:10]}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected keys: {unexpected[:10]}')
    if problems:
        raise CheckpointError(
            f'{source} does not fit {type(module).__name__}: ' +
            '; '.join(problems))
    module.load_state_dict(state_dict, strict=True)


def load_pretrained_backbone(backbone, filename, prefix=None, ema=False):
    """Load a backbone from an authors', mmpretrain or mmvig checkpoint
    (``ema``: the EMA weights of a training checkpoint, see
    :func:`state_dict_of`).

    ``prefix`` selects a sub-tree of the checkpoint (as in mmengine's
    ``Pretrained`` init); by default the ``backbone.`` part of a classifier
    checkpoint, or the whole file if it holds only a backbone. Everything
    not used (for instance the classification head) is reported by name.

    Returns:
        str: the report, also logged.
    """
    checkpoint = load_file(filename)
    state_dict, layout, dropped = to_mmvig_layout(
        state_dict_of(checkpoint, ema))
    state_dict = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state_dict.items())
    if prefix is None:
        prefix = 'backbone.' if any(
            k.startswith('backbone.') for k in state_dict) else ''
    elif prefix and not prefix.endswith('.'):
        prefix += '.'
    selected = sub_state_dict(state_dict, prefix)
    if not set(selected) & set(backbone.state_dict()):
        raise CheckpointError(
            f'{filename} holds no weights of {type(backbone).__name__}: none '
            f'of its {len(selected)} tensors under the prefix {prefix!r} '
            f'(e.g. {sorted(selected)[:3]}) is one of its parameters. It is '
            f'a checkpoint of another architecture, like the ResNet that a '
            f"base config's pretrained= or init_cfg names: give the backbone "
            f'a ViG checkpoint, or init_cfg=None.')
    unused = sorted(k for k in state_dict if not k.startswith(prefix))
    load_state_dict_strict(backbone, selected, source=filename)
    notes = [f'loaded {len(selected)} tensors from {filename} '
             f'({layout or "plain"} layout{", EMA weights" if ema else ""})']
    if dropped:
        notes.append(f'dropped {len(dropped)} fixed relative_pos buffers '
                     f'(regenerated for the input size)')
    if unused:
        notes.append(f'not part of the backbone, unused: {unused}')
    report = f'{type(backbone).__name__}: ' + '; '.join(notes)
    print_log(report, logger='current')
    return report


# -- mmengine integration -----------------------------------------------------


def _mmengine_loader(filename, map_location=None, **kwargs):
    """Scheme loader for mmengine: safe loading, other ViG layouts
    converted."""
    checkpoint = load_file(filename, map_location=map_location or 'cpu')
    try:
        state_dict = state_dict_of(checkpoint)
    except CheckpointError:
        return checkpoint
    converted, layout, dropped = to_mmvig_layout(state_dict)
    names = dict(authors='authors ViG', mmpretrain='mmpretrain ViG',
                 **FAMILY_LAYOUTS)
    if layout in names:
        print_log(
            f'{filename}: converted {names[layout]} keys to mmvig names'
            + (f', dropped {len(dropped)} fixed relative_pos buffers'
               if dropped else ''), logger='current')
        checkpoint = dict(state_dict=converted,
                          meta=checkpoint.get('meta', {}))
    return checkpoint


def register_mmengine_loaders():
    """Route mmengine's local and http(s) checkpoint loading through
    :func:`load_file` (idempotent)."""
    from mmengine.runner import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes=('', 'http://', 'https://'), loader=_mmengine_loader,
        force=True)
