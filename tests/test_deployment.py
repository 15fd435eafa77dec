"""ONNX export (one dynamic file for every batch and size) and
``torch.compile``, each compared with eager PyTorch.

Random weights make many float32 distances tie, so the comparisons let eager
PyTorch follow the other runtime's graphs where, and only where, a node's
neighbours differ by a tie (:func:`mmvig.deployment.compare_outputs`); the
outputs must then agree within 1e-4 of their scale.
"""
import copy

import onnx
import pytest
import torch
import torch.nn.functional as F

from mmvig.analysis import randomize_norms
from mmvig.deployment import OnnxRuntimeModel, compare_outputs, export_onnx
from mmvig.models import PyramidViG, ViG, ViGClsHead
from mmvig.ops import graph_builders
from mmvig.ties import (GraphMismatchError, follow_graphs, record_graphs,
                        relative_errors)

TOLERANCE = 1e-4
#: Small archs with the features of the real ones: dilation (blocks 4 and
#: up), key pooling and the relative-position bias (pyramid), and too few
#: keys for k * dilation at small sizes.
SMALL = {
    'vig': lambda: ViG(dict(depth=6, channels=32)),
    'pvig': lambda: PyramidViG(dict(depths=[1, 1, 3, 1],
                                    channels=[16, 24, 32, 40])),
}
#: 224x224, a non-square size, an odd size; then the smallest input.
SIZES = [(224, 224), (320, 256), (97, 161)]


class Classifier(torch.nn.Module):
    """Backbone and ViG head: images to logits."""

    def __init__(self, backbone, num_classes=10):
        super().__init__()
        self.backbone = backbone
        self.head = ViGClsHead(num_classes, backbone.out_channels[-1])

    def forward(self, images):
        return self.head(self.backbone(images))


def small_classifier(name):
    torch.manual_seed(0)
    model = Classifier(SMALL[name]())
    model.backbone.init_weights()
    randomize_norms(model)
    return model.eval()


def topk_sizes(proto):
    """``k`` of every TopK node: a constant (initializer or Constant node),
    else None."""
    constants = {t.name: t for t in proto.graph.initializer}
    constants.update({n.output[0]: n.attribute[0].t
                      for n in proto.graph.node if n.op_type == 'Constant'})
    return [int(onnx.numpy_helper.to_array(constants[n.input[1]]).item())
            if n.input[1] in constants else None
            for n in proto.graph.node if n.op_type == 'TopK']


@pytest.fixture(scope='module', params=sorted(SMALL))
def dynamic_export(request, tmp_path_factory):
    model = small_classifier(request.param)
    path = tmp_path_factory.mktemp('onnx') / f'{request.param}.onnx'
    export_onnx(model, str(path), torch.randn(2, 3, 224, 224), ['logits'])
    return request.param, model, str(path)


def test_one_dynamic_file_equals_pytorch_at_every_size(dynamic_export):
    name, model, path = dynamic_export
    runtime = OnnxRuntimeModel(path, with_graphs=True)
    minimum = model.backbone.min_input_size
    for size in SIZES + [(minimum, minimum + 3)]:
        for batch in (1, 4):
            images = torch.randn(batch, 3, *size)
            outputs, graphs = runtime(images)
            assert outputs[0].shape == (batch, 10)
            errors, _ = compare_outputs(model, images, outputs, graphs)
            assert max(errors) <= TOLERANCE, (name, size, batch, errors)


def test_dynamic_graph_has_symbolic_axes_and_constant_k(dynamic_export):
    name, model, path = dynamic_export
    proto = onnx.load(path)
    dims = [d.dim_param or d.dim_value
            for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ['batch', 3, 'height', 'width']
    assert topk_sizes(proto) == [b.k * b.dilation
                                 for b in graph_builders(model)]


def test_key_pooling_counts_no_padding(dynamic_export):
    """The ceil-mode average pooling of keys leaves ``count_include_pad``
    off: ONNX Runtime 1.20 otherwise divides the edge windows of odd-sized
    maps by the full window (torch's own answer on newer runtimes)."""
    _, model, path = dynamic_export
    pools = [n for n in onnx.load(path).graph.node
             if n.op_type == 'AveragePool']
    assert len(pools) == sum(getattr(m, 'reduce_ratio', 1) > 1
                             for m in model.modules())
    for node in pools:
        attributes = {a.name: a.i for a in node.attribute}
        assert attributes.get('count_include_pad', 0) == 0


def test_fixed_graph_has_one_shape_and_constant_k(tmp_path):
    model = small_classifier('pvig')
    path = str(tmp_path / 'fixed.onnx')
    images = torch.randn(2, 3, 96, 64)
    export_onnx(model, path, images, ['logits'], dynamic=False)
    proto = onnx.load(path)
    dims = [d.dim_value for d in
            proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [2, 3, 96, 64]
    assert None not in topk_sizes(proto)
    outputs, graphs = OnnxRuntimeModel(path, with_graphs=True)(images)
    errors, _ = compare_outputs(model, images, outputs, graphs)
    assert max(errors) <= TOLERANCE


def test_comparison_refuses_a_graph_that_is_not_a_tie():
    model = small_classifier('vig')
    images = torch.randn(1, 3, 64, 64)
    with record_graphs(model) as graphs, torch.no_grad():
        logits = model(images)
    too_few = [g.clone() for g in graphs[:2]]
    graphs[0][0, 0] = graphs[0][0, -1]  # the opposite corner's neighbours
    with pytest.raises(GraphMismatchError, match='more than a tie'):
        compare_outputs(model, images, [logits], graphs)
    with pytest.raises(GraphMismatchError, match='more graphs built'):
        compare_outputs(model, images, [logits], too_few)


def test_relative_errors_are_scale_relative():
    reference = torch.tensor([100., -50.])
    assert relative_errors([reference + 0.01], [reference]) == [
        pytest.approx(1e-4, rel=1e-3)]
    with pytest.raises(ValueError, match='shapes differ'):
        relative_errors([reference[:1]], [reference])


def compiled_and_eager(model, images, train):
    """Logits (in training also the loss and the gradient, all parameters'
    as one vector) of the compiled ``model`` and of an eager copy following
    its graphs."""
    labels = torch.arange(images.shape[0]) % 10

    def run(module):
        if not train:
            with torch.no_grad():
                return [module(images)]
        logits = module(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        # One vector: a conv bias before a batch norm has a gradient of
        # zero up to rounding, which no relative comparison of its own fits.
        return [logits, loss.detach(),
                torch.cat([p.grad.flatten() for p in module.parameters()])]

    eager = copy.deepcopy(model).train(train)
    with record_graphs(model) as graphs:
        compiled = run(torch.compile(model.train(train)))
    graphs = [g.clone() for g in graphs]
    with follow_graphs(eager, graphs):
        expected = run(eager)
    assert not graphs
    return compiled, expected


@pytest.mark.slow
def test_torch_compile_equals_eager_in_inference_and_training():
    """Inductor on a two-stage pyramid (key pooling, relative-position bias,
    a dilated block): compilation costs about a minute per mode on 2 cores,
    so the arch is as small as keeps those features."""
    torch.manual_seed(0)
    backbone = PyramidViG(dict(depths=[1, 4], channels=[16, 24]),
                          reduce_ratios=(2, 1))
    model = Classifier(backbone)
    backbone.init_weights()
    randomize_norms(model)
    images = torch.randn(4, 3, 96, 80)
    for train in (False, True):
        compiled, eager = compiled_and_eager(model, images, train)
        errors = relative_errors(compiled, eager)
        assert max(errors) <= TOLERANCE, (train, errors)
