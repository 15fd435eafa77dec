"""The legacy ``pretrained=`` argument that mmseg's segmentors (and old
mmdet configs) pass to a backbone: taken as ``init_cfg``, with mmseg's
deprecation warning, on every mmvig backbone."""
import pytest
import torch

from mmvig.checkpoint import CheckpointError
from mmvig.models import GreedyViG, MobileViG, PyramidViG, ViG
from ..helpers import save_pvig_tiny_in1k

BACKBONES = [(ViG, 'tiny'), (PyramidViG, 'tiny'), (MobileViG, 'ti'),
             (GreedyViG, 's')]


@pytest.mark.parametrize('cls, arch', BACKBONES,
                         ids=[c.__name__ for c, _ in BACKBONES])
def test_pretrained_becomes_init_cfg_with_a_deprecation_warning(cls, arch):
    with pytest.warns(UserWarning, match='pretrained is deprecated, please '
                      'use "init_cfg" instead'):
        backbone = cls(arch=arch, pretrained='ckpt.pth')
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint='ckpt.pth')
    with pytest.raises(ValueError, match=f"{cls.__name__}: pretrained='a.pth'"
                       r" and init_cfg=.* are both set"):
        cls(arch=arch, pretrained='a.pth',
            init_cfg=dict(type='Pretrained', checkpoint='b.pth'))
    with pytest.raises(TypeError, match='pretrained must be a checkpoint path'
                       ' or URL'):
        cls(arch=arch, pretrained=True)


def test_pretrained_loads_a_vig_checkpoint_and_refuses_a_resnet(tmp_path):
    expected = save_pvig_tiny_in1k(tmp_path / 'pvig_ti.pth')
    with pytest.warns(UserWarning, match='pretrained is deprecated'):
        backbone = PyramidViG('tiny', pretrained=str(tmp_path / 'pvig_ti.pth'))
    backbone.init_weights()
    state = backbone.state_dict()
    loaded = {k[len('backbone.'):]: v for k, v in expected.items()
              if k.startswith('backbone.')}
    # Every parameter came from the file.
    assert {n for n, _ in backbone.named_parameters()} <= loaded.keys()
    assert all(torch.equal(state[k], v) for k, v in loaded.items())
    import torchvision
    torch.save(torchvision.models.resnet18().state_dict(),
               tmp_path / 'resnet18.pth')
    with pytest.warns(UserWarning, match='pretrained is deprecated'):
        backbone = PyramidViG('tiny', pretrained=str(tmp_path / 'resnet18.pth'))
    with pytest.raises(CheckpointError, match='holds no weights of PyramidViG'):
        backbone.init_weights()
