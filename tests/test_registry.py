"""mmpretrain and mmdet configs reach mmvig's modules via custom_imports."""
import subprocess
import sys
import textwrap

BUILD = textwrap.dedent('''
    import sys
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    assert 'mmvig' not in sys.modules
    cfg = Config.fromfile(sys.argv[1])  # runs custom_imports
    assert 'mmvig' in sys.modules
    init_default_scope(cfg.default_scope)
    from {project}.registry import MODELS
    model = MODELS.build(cfg.model).eval()
    {check}
    print('built', type(model).__name__)
''')


def _build(tmp_path, project, config, check):
    path = tmp_path / f'{project}_config.py'
    path.write_text(textwrap.dedent(config))
    script = BUILD.format(project=project,
                          check=textwrap.dedent(check).strip())
    result = subprocess.run([sys.executable, '-c', script, str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_mmpretrain_config_builds_classifier_with_mmvig_modules(tmp_path):
    out = _build(tmp_path, 'mmpretrain', '''
        custom_imports = dict(imports=['mmvig'], allow_failed_imports=False)
        default_scope = 'mmpretrain'
        model = dict(
            type='ImageClassifier',
            backbone=dict(type='mmvig.ViG', arch=dict(depth=2, channels=32)),
            head=dict(type='mmvig.ViGClsHead', num_classes=5, in_channels=32,
                      loss=dict(type='CrossEntropyLoss')))
    ''', check='''
    from mmvig.models import ViG, ViGClsHead
    assert isinstance(model.backbone, ViG)
    assert isinstance(model.head, ViGClsHead)
    with torch.no_grad():
        scores = model(torch.randn(2, 3, 64, 64), mode='tensor')
    assert scores.shape == (2, 5), scores.shape
    ''')
    assert 'built ImageClassifier' in out


def test_mmdet_config_builds_mmvig_backbone(tmp_path):
    out = _build(tmp_path, 'mmdet', '''
        custom_imports = dict(imports=['mmvig'], allow_failed_imports=False)
        default_scope = 'mmdet'
        model = dict(type='mmvig.PyramidViG', arch='tiny',
                     out_indices=(0, 1, 2, 3))
    ''', check='''
    from mmvig.models import PyramidViG
    assert isinstance(model, PyramidViG)
    from mmdet.registry import MODELS as DET
    neck = DET.build(dict(type='FPN', in_channels=model.out_channels,
                          out_channels=16, num_outs=5))
    with torch.no_grad():
        feats = neck(model(torch.randn(1, 3, 96, 128)))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]
    ''')
    assert 'built PyramidViG' in out
