"""mmvig equals mmpretrain's port (the numerical reference) at 224 with the
same weights, loaded through mmpretrain's and the authors' key layouts."""
import pytest
import torch
from mmpretrain.models.backbones import PyramidVig, Vig
from mmpretrain.models.backbones.vig import DenseDilatedKnnGraph
from mmpretrain.models.heads import VigClsHead

from mmvig.analysis import randomize_norms
from mmvig.checkpoint import to_mmvig_layout
from mmvig.models import PyramidViG, ViG, ViGClsHead
from mmvig.ties import follow_graphs, record_graphs
from ..helpers import assert_close_rounding
from .vig_reference import ARCHS, authors_layout

OURS = {'ViG': ViG, 'PyramidViG': PyramidViG}
THEIRS = {'Vig': Vig, 'PyramidVig': PyramidVig}


def _backbone_state(state_dict):
    return {k[len('backbone.'):]: v for k, v in state_dict.items()
            if k.startswith('backbone.')}


@pytest.mark.parametrize('ours,theirs,arch', ARCHS)
def test_backbone_parity(ours, theirs, arch):
    torch.manual_seed(0)
    reference = THEIRS[theirs](arch)
    reference.eval()  # mmpretrain's train() returns None: no chaining
    randomize_norms(reference)
    ref_sd = reference.state_dict()

    converted, layout, dropped = to_mmvig_layout(
        {f'backbone.{k}': v for k, v in ref_sd.items()})
    assert layout == 'mmpretrain'
    assert len(dropped) == (0 if ours == 'ViG' else len(
        [k for k in ref_sd if k.endswith('relative_pos')]))
    model = OURS[ours](arch).eval()
    model.load_state_dict(_backbone_state(converted), strict=True)

    # The authors' layout converts to exactly the same tensors.
    depths = getattr(reference, 'blocks', None)
    from_authors, layout, _ = to_mmvig_layout(authors_layout(ref_sd, depths))
    assert layout == 'authors'
    assert from_authors.keys() == converted.keys()
    assert all(torch.equal(from_authors[k], converted[k]) for k in converted)

    # mmvig follows the reference's graphs, each difference checked to be
    # a tie, so that both continue on the same graph.
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        with record_graphs(reference, DenseDilatedKnnGraph,
                           select=lambda edges: edges[0]) as graphs:
            expected = reference(x)[-1]
        calls = len(graphs)
        with follow_graphs(model, graphs) as stats:
            got = model(x)[-1]
    assert stats['calls'] == calls > 0 and not graphs
    scale = expected.abs().max()
    err = (got - expected).abs().max()
    assert err <= 1e-4 * scale, (
        f'max |diff| {err} vs scale {scale} ({stats["flips"]} tied nodes)')


def test_head_parity_through_both_layouts():
    torch.manual_seed(0)
    reference = VigClsHead(num_classes=10, in_channels=48).eval()
    randomize_norms(reference)
    ref_sd = {f'head.{k}': v for k, v in reference.state_dict().items()}
    feats = torch.randn(4, 48, 7, 7)
    expected = reference((feats.mean((2, 3)), ))
    ref_sd['backbone.stem.0.weight'] = torch.zeros(1)  # marks the layout
    for state_dict in (ref_sd, authors_layout(
            {'pos_embed': torch.zeros(1), 'stem.0.weight': torch.zeros(1)},
            head_sd=reference.state_dict())):
        converted, _, _ = to_mmvig_layout(state_dict)
        head = ViGClsHead(10, 48).eval()
        head.load_state_dict({k[5:]: v for k, v in converted.items()
                              if k.startswith('head.')})
        got = head((feats, ))
        assert (got - expected).abs().max() <= 1e-4 * expected.abs().max()


@pytest.mark.parametrize('arch', ['tiny', 'base'])
def test_relative_bias_equals_the_trained_buffers_at_224(arch):
    reference = PyramidVig(arch)
    model = PyramidViG(arch)
    grids = [56, 28, 14, 7]
    for stage, (ref_stage, ours) in enumerate(zip(reference.stages,
                                                  model.stages)):
        ref_grapher = ref_stage[0 if stage == 0 else 1][0]
        grapher = ours.blocks[0].grapher
        grid, ratio = grids[stage], grapher.reduce_ratio
        query, key = grapher._pos_factors(
            grid, grid, (grid // ratio)**2,
            torch.zeros(1, model.channels[stage], 1, 1))
        # C-term products, resized by 4-tap bicubic filters on both sides.
        assert_close_rounding(query @ key.t(), ref_grapher.relative_pos[0],
                              model.channels[stage] + 8,
                              magnitude=query.abs() @ key.abs().t())
