"""Deployment: ONNX export, and ONNX Runtime or ``torch.compile`` checked
against eager PyTorch.

Exported and compiled graphs build the KNN graph with fixed-size ops (the
builders of :mod:`mmvig.ops.graph_builders` switch while a graph is
captured), so one ONNX file serves any batch and any input size at or above
the backbone's minimum.

Comparing two runtimes of a Vision GNN needs care: where two distances are
equal to rounding (frequent with random weights) the runtimes may pick
different neighbours. :func:`compare_outputs` therefore lets eager PyTorch
follow the other runtime's graphs (:mod:`mmvig.ties`), checking that every
node where they differ is a tie, and then compares the outputs.
"""
import warnings

import torch
import torch.nn as nn

from mmvig.ties import GraphMismatchError, follow_graphs, relative_errors

#: Axes of an exported input that vary in a dynamic graph.
IMAGE_AXES = {0: 'batch', 2: 'height', 3: 'width'}


def flatten_outputs(outputs):
    """Tensors of a nested tuple / list of outputs, in order."""
    if torch.is_tensor(outputs):
        return [outputs]
    return [t for item in outputs for t in flatten_outputs(item)]


class FlatOutputs(nn.Module):
    """``module``'s outputs as a flat tuple of tensors (what an exported
    graph returns)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, images):
        return tuple(flatten_outputs(self.module(images)))


def export_onnx(model, path, images, output_names, dynamic=True, opset=17):
    """Export ``model`` (images ``(B, 3, H, W)`` to a tensor or a nested
    tuple of tensors) to ONNX with the TorchScript exporter.

    Args:
        model (nn.Module): in eval mode.
        path (str): the ``.onnx`` file to write.
        images (Tensor): an example input; its shape is the graph's shape
            when ``dynamic`` is False.
        output_names (Sequence[str]): one name per output tensor.
        dynamic (bool): batch, height and width as graph inputs (every
            output axis but the channel axis 1 dynamic too).
        opset (int): ONNX opset. Defaults to 17.
    """
    model = FlatOutputs(model).eval()
    dynamic_axes = None
    if dynamic:
        with torch.no_grad():
            ranks = [t.dim() for t in model(images)]
        dynamic_axes = {'images': IMAGE_AXES}
        for name, rank in zip(output_names, ranks):
            dynamic_axes[name] = {
                axis: f'{name}_{axis}' for axis in range(rank) if axis != 1}
    with torch.no_grad(), warnings.catch_warnings():
        # Noise for the user: the legacy exporter's deprecation notice, and
        # Slice ops left unfolded (they compute sizes in the graph).
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', message='Constant folding')
        torch.onnx.export(
            model, (images, ), path, dynamo=False, opset_version=opset,
            input_names=['images'], output_names=list(output_names),
            dynamic_axes=dynamic_axes)


def _graph_outputs(proto):
    """Names of the KNN indices in an exported graph, in forward order: the
    ``GatherElements`` that selects the neighbours from each ``TopK``."""
    consumers = {}
    for node in proto.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    names = []
    for node in proto.graph.node:
        if node.op_type == 'TopK':
            names += [c.output[0] for c in consumers.get(node.output[1], [])
                      if c.op_type == 'GatherElements']
    return names


class OnnxRuntimeModel:
    """An ONNX file in ONNX Runtime's CPU provider.

    Args:
        path (str): the ``.onnx`` file.
        with_graphs (bool): also return the neighbour indices of every KNN
            in the graph (for :func:`compare_outputs`).
        threads (int, optional): intra-op threads; ONNX Runtime's default
            (one per core) when None.
    """

    def __init__(self, path, with_graphs=False, threads=None):
        import onnx
        import onnxruntime as ort
        proto = onnx.load(path)
        self.output_names = [o.name for o in proto.graph.output]
        self.graph_names = []
        if with_graphs:
            self.graph_names = _graph_outputs(proto)
            proto.graph.output.extend(
                onnx.helper.make_tensor_value_info(
                    name, onnx.TensorProto.INT64, None)
                for name in self.graph_names)
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            proto.SerializeToString(), options,
            providers=['CPUExecutionProvider'])

    def __call__(self, images):
        """Outputs as a list of tensors (and, with graphs, the list of
        neighbour indices)."""
        results = [torch.from_numpy(r) for r in self.session.run(
            None, {'images': images.numpy()})]
        outputs = results[:len(self.output_names)]
        if self.graph_names:
            return outputs, results[len(self.output_names):]
        return outputs


def compare_outputs(model, images, outputs, graphs):
    """Eager ``model``'s outputs on ``images``, following another runtime's
    KNN ``graphs`` (ties checked, see :func:`mmvig.ties.follow_graphs`),
    against that runtime's ``outputs``.

    Returns:
        tuple[list[float], int]: the relative error of each output
        (:func:`relative_errors`) and the number of tied nodes followed.
    """
    graphs = list(graphs)
    with follow_graphs(model, graphs) as stats, torch.no_grad():
        expected = flatten_outputs(model(images))
    if graphs:
        raise GraphMismatchError(
            f'{len(graphs)} graphs left over: the other runtime built more '
            f'graphs than eager PyTorch ({stats["calls"]})')
    return relative_errors(outputs, expected), stats['flips']
