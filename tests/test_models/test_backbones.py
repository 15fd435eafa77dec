import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvig.models import PyramidViG, ViG, ViGClsHead
from mmvig.ops import FixedSizeKNNGraph, KNNGraph, graph_builders
from mmvig.ties import count_tie_flips, knn_distances, knn_tie_tol

# Trainable parameters with the 1000-class head, as the authors' models count
# them (docs/models.md).
OFFICIAL_PARAMS_M = {
    (ViG, 'tiny'): 7.185, (ViG, 'small'): 22.748, (ViG, 'base'): 86.842,
    (PyramidViG, 'tiny'): 10.714, (PyramidViG, 'small'): 27.252,
    (PyramidViG, 'medium'): 49.526, (PyramidViG, 'base'): 92.980,
}


def trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize('cls,arch', list(OFFICIAL_PARAMS_M))
def test_parameter_count_matches_official(cls, arch):
    backbone = cls(arch)
    head = ViGClsHead(1000, backbone.out_channels[-1])
    total = trainable(backbone) + trainable(head)
    assert round(total / 1e6, 3) == OFFICIAL_PARAMS_M[(cls, arch)]


@pytest.mark.parametrize('size', [(224, 224), (333, 517), (97, 61), (32, 32)])
def test_pyramid_outputs_at_any_size(size):
    model = PyramidViG('tiny', out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    assert [info['stride'] for info in model.feature_info] == [4, 8, 16, 32]
    assert model.out_channels == [48, 96, 240, 384]
    for out, info in zip(outs, model.feature_info):
        expected = [-(-s // info['stride']) for s in size]
        assert list(out.shape) == [1, info['channels'], *expected]
        assert torch.isfinite(out).all()


@pytest.mark.parametrize('size', [(224, 224), (200, 296), (50, 81)])
def test_isotropic_outputs_at_any_size(size):
    model = ViG(dict(depth=3, channels=48), out_indices=(0, -1)).eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, *size))
    assert model.out_indices == [0, 2]
    assert model.feature_info == [dict(index=0, channels=48, stride=16),
                                  dict(index=2, channels=48, stride=16)]
    assert all(o.shape == (2, 48, -(-size[0] // 16), -(-size[1] // 16))
               for o in outs)


def test_pos_embed_resized_bicubically_off_the_training_grid():
    model = PyramidViG('tiny').eval()
    model.pos_embed.data.normal_()
    # The stem runs channels-last in _embed: the same kernels here, so the
    # results are identical.
    x = torch.randn(1, 3, 224, 224).contiguous(memory_format=torch.channels_last)
    assert torch.equal(model._embed(x), model.stem(x) + model.pos_embed)
    x = torch.randn(1, 3, 448, 300).contiguous(memory_format=torch.channels_last)
    resized = F.interpolate(model.pos_embed, size=(112, 75), mode='bicubic',
                            align_corners=False)
    assert torch.equal(model._embed(x), model.stem(x) + resized)


def test_too_small_and_malformed_inputs_are_refused():
    with pytest.raises(ValueError, match='at least 32x32 pixels'):
        PyramidViG('tiny')(torch.randn(1, 3, 20, 224))
    with pytest.raises(ValueError, match='at least 16x16 pixels'):
        ViG('tiny')(torch.randn(1, 3, 15, 15))
    with pytest.raises(ValueError, match=r'expects images \(B, C, H, W\)'):
        PyramidViG('tiny')(torch.randn(3, 224, 224))


def test_unknown_arch_and_bad_options_are_refused():
    with pytest.raises(ValueError, match="unknown PyramidViG arch 'huge'.*"
                       "'medium'"):
        PyramidViG('huge')
    with pytest.raises(ValueError, match='exactly the keys'):
        ViG(dict(depth=4))
    with pytest.raises(ValueError, match='out_indices 4 is out of range'):
        PyramidViG('tiny', out_indices=(0, 4))
    with pytest.raises(ValueError, match='out_indices -13 is out of range'):
        ViG('tiny', out_indices=-13)
    with pytest.raises(ValueError, match='frozen_stages must be in'):
        PyramidViG('tiny', frozen_stages=5)


def test_frozen_stages_pyramid():
    model = PyramidViG('tiny', frozen_stages=2)
    model.train()
    frozen = [model.stem, model.stages[0], model.stages[1]]
    for module in frozen:
        assert not any(p.requires_grad for p in module.parameters())
        assert not any(m.training for m in module.modules())
    assert not model.pos_embed.requires_grad
    assert all(p.requires_grad for p in model.stages[2].parameters())
    assert model.stages[2].training
    outs = model(torch.randn(1, 3, 64, 64))
    outs[-1].sum().backward()
    assert model.stem[0].conv.weight.grad is None
    assert model.stages[2].blocks[0].ffn.fc1.conv.weight.grad is not None


def test_frozen_stages_isotropic_counts_blocks():
    model = ViG('tiny', frozen_stages=3).train()
    assert not any(p.requires_grad for b in model.blocks[:3]
                   for p in b.parameters())
    assert all(p.requires_grad for p in model.blocks[3].parameters())
    assert trainable(ViG('tiny', frozen_stages=-1)) == trainable(ViG('tiny'))


def test_norm_eval_keeps_all_norms_in_eval():
    model = PyramidViG('tiny', norm_eval=True).train()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    assert model.stages[0].blocks[0].grapher.training


@pytest.mark.parametrize('cls', [ViG, PyramidViG])
def test_norm_and_act_cfg_reach_every_layer(cls):
    plain = cls('tiny')
    num_norms = sum(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    num_acts = sum(isinstance(m, nn.GELU) for m in plain.modules())
    synced = cls('tiny', norm_cfg=dict(type='SyncBN'),
                 act_cfg=dict(type='ReLU'))
    assert sum(isinstance(m, nn.SyncBatchNorm)
               for m in synced.modules()) == num_norms
    assert not any(type(m) is nn.BatchNorm2d for m in synced.modules())
    assert sum(isinstance(m, nn.ReLU) for m in synced.modules()) == num_acts
    assert not any(isinstance(m, nn.GELU) for m in synced.modules())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(plain)
    assert sum(isinstance(m, nn.SyncBatchNorm)
               for m in converted.modules()) == num_norms


def test_with_cp_gives_equal_gradients():
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = PyramidViG('tiny', with_cp=with_cp, drop_path_rate=0.).train()
        model(x)[-1].square().mean().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    # Recomputation runs the very same kernels on the same inputs.
    for name in grads[0]:
        assert torch.equal(grads[1][name], grads[0][name]), name


def test_official_initialisation():
    model = PyramidViG('tiny')
    model.init_weights()
    conv = model.stages[2].blocks[0].ffn.fc1.conv
    fan_in = conv.in_channels
    assert abs(conv.weight.std().item() - (2 / fan_in)**0.5) < 0.1 * (
        2 / fan_in)**0.5
    assert torch.count_nonzero(conv.bias) == 0
    assert torch.count_nonzero(model.pos_embed) == 0


def test_layer_depth_for_lr_decay():
    model = PyramidViG('tiny')
    num_layers = sum(model.depths) + 2
    assert model.get_layer_depth('backbone.stem.0.conv.weight',
                                 'backbone.') == (0, num_layers)
    assert model.get_layer_depth('backbone.pos_embed', 'backbone.')[0] == 0
    assert model.get_layer_depth(
        'backbone.stages.1.downsample.conv.weight', 'backbone.')[0] == 3
    assert model.get_layer_depth(
        'backbone.stages.1.blocks.0.ffn.fc1.conv.weight', 'backbone.')[0] == 3
    assert model.get_layer_depth(
        'backbone.stages.3.blocks.1.ffn.fc1.conv.weight',
        'backbone.')[0] == num_layers - 2
    assert model.get_layer_depth('head.fc2.weight',
                                 'backbone.') == (num_layers - 1, num_layers)
    vig = ViG('tiny')
    assert vig.get_layer_depth('blocks.11.grapher.fc1.conv.weight') == (12, 14)


def test_graph_builder_is_chosen_from_the_config():
    """``graph_cfg`` picks each Grapher's builder (its options from the
    config, k and dilation from the backbone's schedule), in a config built
    through mmpretrain's registry as users write it."""
    from mmpretrain.registry import MODELS
    model = MODELS.build(dict(
        type='mmvig.PyramidViG', arch='tiny', graph_cfg=dict(
            type='mmvig.FixedSizeKNNGraph', stochastic=True, epsilon=0.5)))
    builders = [g.graph for g, _ in model._graph_layers()]
    assert all(type(b) is FixedSizeKNNGraph and b.stochastic and
               b.epsilon == 0.5 for b in builders)
    assert [b.dilation for b in builders] == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3,
                                              3, 3]
    default = PyramidViG('tiny')
    assert all(type(g.graph) is KNNGraph for g, _ in default._graph_layers())
    with pytest.raises(ValueError, match="graph_cfg sets 'k', which the "
                       'backbone schedules per block'):
        PyramidViG('tiny', graph_cfg=dict(type='mmvig.KNNGraph', k=5))
    with pytest.raises(TypeError, match='Grapher: graph_cfg must build a '
                       'KNNGraph \\(or a subclass\\), got SVGAGraph'):
        ViG('tiny', graph_cfg=dict(type='mmvig.SVGAGraph'))


def test_dense_knn_option_gives_the_same_graphs():
    """Every block's chunked graph is the dense graph of the same features,
    up to float32 ties (float64 distances decide)."""
    model = PyramidViG('tiny', graph_cfg=dict(
        type='mmvig.KNNGraph', max_chunk_bytes=4096)).eval()
    assert all(g.graph.max_chunk_bytes == 4096
               for g, _ in model._graph_layers())
    calls = []
    for builder in graph_builders(model):
        builder.register_forward_hook(
            lambda builder, args, out: calls.append((builder, args, out)))
    with torch.no_grad():
        model(torch.randn(1, 3, 96, 128))
    assert len(calls) == sum(model.depths)
    for builder, (x, y, pos), chunked in calls:
        dense = copy.deepcopy(builder)
        dense.max_chunk_bytes = None
        dist, bias_scale = knn_distances(x, y, pos)
        assert count_tie_flips(chunked, dense.forward(x, y, pos), dist,
                               knn_tie_tol(x.shape[1], bias_scale)) >= 0
