"""tools/deployment/pytorch2onnx.py: detectors exported as one dynamic
graph, checked in ONNX Runtime against PyTorch by the tool's own ``--check``
(tie-aware, 1e-4 of each output's scale). The size and batch sweep of the
classifiers is in tests/test_deployment.py on small archs; the seven
released archs are measured in docs/deployment.md."""
import re
import sys

import onnx
import pytest

from ..helpers import load_tool, run_tool

TOOL = 'tools/deployment/pytorch2onnx.py'
CHECK_LINE = re.compile(
    r'^(\d+)x(\d+), batch (\d+): max \|ONNX Runtime - PyTorch\| / max '
    r'\|PyTorch\| = (\S+) over (\d+) outputs', re.MULTILINE)


def export_and_check(tmp_path, config, *args):
    path = tmp_path / 'model.onnx'
    result = run_tool(TOOL, config, '--out', path, '--dynamic', *args)
    assert result.returncode == 0, result.stderr[-3000:]
    checks = [(int(h), int(w), int(b), float(err), int(n))
              for h, w, b, err, n in CHECK_LINE.findall(result.stdout)]
    assert checks and all(err <= 1e-4 for *_, err, _ in checks), checks
    return onnx.load(str(path)), checks


@pytest.mark.slow
@pytest.mark.parametrize('config,outputs', [
    ('configs/retinanet/retinanet_pvig-ti_fpn_synthetic-coco.py',
     [f'{kind}_{i}' for kind in ('cls_score', 'bbox_pred') for i in range(5)]),
    ('configs/mask_rcnn/mask-rcnn_pvig-ti_fpn_synthetic-coco.py',
     [f'{kind}_{i}' for kind in ('feat', 'cls_score', 'bbox_pred')
      for i in range(5)]),
])
def test_detector_tensors(tmp_path, config, outputs):
    proto, checks = export_and_check(
        tmp_path, config, '--shape', 128, 160, '--batch', 2, '--check', 128,
        160, 96, 224)
    assert [o.name for o in proto.graph.output] == outputs
    assert [(h, w, b) for h, w, b, *_ in checks] == [
        (128, 160, 1), (128, 160, 2), (96, 224, 1), (96, 224, 2)]
    assert {n for *_, n in checks} == {len(outputs)}


def run_in_process(monkeypatch, capsys, *args):
    """The tool's ``main`` with ``args``: its exit code and stderr."""
    monkeypatch.setattr(sys, 'argv', [TOOL] + [str(a) for a in args])
    with pytest.raises(SystemExit) as exit_info:
        load_tool(TOOL).main()
    return exit_info.value.code, capsys.readouterr().err


def test_refuses_inputs_below_the_minimum(tmp_path, monkeypatch, capsys):
    code, err = run_in_process(
        monkeypatch, capsys, 'configs/pvig/pvig-ti_1xb64_digits.py', '--out',
        tmp_path / 'x.onnx', '--shape', 16, 64)
    assert 'at least 32x32 pixels' in str(code) + err
    assert not (tmp_path / 'x.onnx').exists()


def test_fixed_graph_is_checked_at_its_own_shape_only(tmp_path, monkeypatch,
                                                      capsys):
    code, err = run_in_process(
        monkeypatch, capsys, 'configs/pvig/pvig-ti_1xb64_digits.py', '--out',
        tmp_path / 'x.onnx', '--check', 64, 64)
    assert code == 2 and 'add --dynamic' in err


def test_backbone_only_names_every_output():
    build_model = load_tool(TOOL).build_model
    backbone, names = build_model(
        'configs/retinanet/retinanet_pvig-ti_fpn_synthetic-coco.py',
        backbone_only=True)
    assert type(backbone).__name__ == 'PyramidViG'
    assert names == ['feat_0', 'feat_1', 'feat_2', 'feat_3']
    _, names = build_model('configs/pvig/pvig-ti_1xb64_digits.py')
    assert names == ['logits']
