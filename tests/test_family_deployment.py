"""ONNX export and ``torch.compile`` of the axial-graph family (MobileViG,
GreedyViG, MobileViGv2, AdaptViG), each compared with eager PyTorch.

An axial graph's candidates are shifts fixed by the grid's size, so an
exported file holds those of its input size: one file per input size (any
size at or above 32; the batch stays dynamic). The graphs make few
decisions: SVGA's and MGC's are fixed, AdaptViG's gates are continuous (a
maximum picks a value, whichever candidate gives it). DAGA keeps a
candidate by comparing an L1 distance with a threshold, so the comparison
is tie-aware there: it holds only where no decision of eager PyTorch lies
within the tolerance of its threshold (:func:`mmvig.ties.daga_margins`),
checked, not assumed.
"""
import pytest
import torch

from mmvig.analysis import randomize_norms
from mmvig.deployment import OnnxRuntimeModel, export_onnx
from mmvig.models import AdaptViG, GreedyViG, MobileViG, MobileViGv2
from mmvig.ties import daga_margins, relative_errors

TOLERANCE = 1e-4
#: A DAGA decision this close to its threshold (relative) is a tie: the
#: runtimes' features agree within about 1e-6 of their scale (their outputs
#: do), so a farther decision is the same in both.
DECISION_TIE = 1e-5
#: One block per stage, every kind of graph block of each family.
CHANNELS = [16, 24, 32, 40]
SMALL = {
    'mobilevig': (MobileViG, [0, 0, 0, 1]),
    'greedyvig': (GreedyViG, [1, 1, 1, 1]),
    'mobilevigv2': (MobileViGv2, [0, 1, 1, 1]),
    'adaptvig': (AdaptViG, [1, 1, 1, 1]),
}


def small_backbone(name):
    """Random weights far from the initialisation: norms, layer scales
    (1e-5 at init would hide the graph blocks) and AdaptViG's gate
    temperatures (of the order of an L1 distance over the channels, so
    that the gates are neither 0 nor 1)."""
    torch.manual_seed(0)
    cls, graph_depths = SMALL[name]
    model = cls(dict(depths=[1] * 4, graph_depths=graph_depths,
                     channels=CHANNELS), out_indices=(0, 1, 2, 3))
    model.init_weights()
    randomize_norms(model)
    gen = torch.Generator().manual_seed(1)
    for key, param in model.named_parameters():
        if 'layer_scale' in key:
            param.data.uniform_(0.2, 1.0, generator=gen)
        elif key.endswith('temperature'):
            param.data.fill_(float(model.channels[int(key.split('.')[1])]))
    return model.eval()


@pytest.mark.parametrize('name', sorted(SMALL))
def test_onnx_equals_pytorch_at_an_odd_size(tmp_path, name):
    model = small_backbone(name)
    path = str(tmp_path / f'{name}.onnx')
    size = (67, 93)
    export_onnx(model, path, torch.randn(2, 3, *size),
                [f'out{i}' for i in range(4)], dynamic=False)
    images = torch.randn(2, 3, *size)
    outputs = OnnxRuntimeModel(path)(images)
    with daga_margins(model) as margins, torch.no_grad():
        expected = model(images)
    assert margins['margin'] > DECISION_TIE
    assert bool(margins['decisions']) == (name == 'greedyvig')
    errors = relative_errors(outputs, expected)
    assert max(errors) <= TOLERANCE, errors


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(SMALL))
def test_torch_compile_equals_eager(name):
    """Inference at an odd size; compiling costs about half a minute per
    model on 2 cores."""
    model = small_backbone(name)
    images = torch.randn(2, 3, 75, 61)
    with torch.no_grad():
        compiled = torch.compile(model)(images)
        with daga_margins(model) as margins:
            expected = model(images)
    assert margins['margin'] > DECISION_TIE
    errors = relative_errors(compiled, expected)
    assert max(errors) <= TOLERANCE, errors
