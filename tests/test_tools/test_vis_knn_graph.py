"""tools/visualization/vis_knn_graph.py: the graphs it records and draws."""
import matplotlib
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from ..helpers import load_tool
from .conftest import DIGITS_CONFIG

matplotlib.use('Agg')
vis = load_tool('tools/visualization/vis_knn_graph.py')


@pytest.fixture(scope='module')
def digits_model():
    cfg = Config.fromfile(DIGITS_CONFIG)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model).eval()


def test_records_every_grapher_in_forward_order(digits_model):
    graphs = vis.record_graphs(digits_model, torch.randn(1, 3, 32, 32))
    # Pyramid ViG-Ti: 2, 2, 6, 2 blocks on 8x8, 4x4, 2x2, 1x1 nodes.
    grids = [g['nodes'] for g in graphs]
    assert grids == [(8, 8)] * 2 + [(4, 4)] * 2 + [(2, 2)] * 6 + [(1, 1)] * 2
    assert graphs[0]['name'] == 'stages.0.blocks.0.grapher'
    first = graphs[0]['index']
    assert first.shape == (64, 9)
    # Each node is its own nearest key (no pooling in this config).
    assert torch.equal(first[:, 0], torch.arange(64))
    # Stages 3 and 4 have fewer nodes than k: every node links to all.
    assert graphs[4]['index'].shape == (4, 4)
    # Drawn by default: the first block and the last non-complete graph.
    assert vis.default_blocks(graphs) == [0, 3]
    assert digits_model.training is False  # the hooks changed nothing


def test_draws_the_centre_and_its_neighbours(digits_model):
    graphs = vis.record_graphs(digits_model, torch.randn(1, 3, 32, 32))
    fig, ax = matplotlib.pyplot.subplots()
    vis.draw(ax, torch.zeros(32, 32, 3).numpy(), graphs[0], (0.5, 0.5), 't')
    # A marker for each of the 9 neighbours, then the centre's.
    markers = [line.get_xydata()[0] for line in ax.lines
               if line.get_marker() == 'o']
    assert len(markers) == 9 + 1
    # Node (4, 4) of 8x8 on 32 pixels: its middle is at pixel 18. It is its
    # own nearest neighbour.
    assert tuple(markers[-1]) == tuple(markers[0]) == (18., 18.)
    matplotlib.pyplot.close(fig)
