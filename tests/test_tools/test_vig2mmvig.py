import pytest
import torch
from mmpretrain.models.backbones import Vig

from mmvig.checkpoint import load_file
from mmvig.analysis import randomize_norms
from mmvig.models import ViG
from ..helpers import run_tool
from ..test_models.vig_reference import authors_layout, random_authors_head

TOOL = 'tools/model_converters/vig2mmvig.py'


def run(*args):
    return run_tool(TOOL, *args, timeout=300)


@pytest.fixture(scope='module')
def authors_file(tmp_path_factory):
    torch.manual_seed(0)
    reference = Vig('tiny')
    randomize_norms(reference)
    head = random_authors_head(192)
    path = tmp_path_factory.mktemp('ckpt') / 'vig_ti_74.5.pth'
    torch.save(authors_layout(reference.state_dict(), head_sd=head), path)
    return path, reference


def test_converts_and_checks_authors_file(authors_file, tmp_path):
    src, reference = authors_file
    result = run(src, tmp_path / 'out.pth', '--arch', 'vig-ti')
    assert result.returncode == 0, result.stderr
    assert 'authors layout' in result.stdout
    converted = load_file(str(tmp_path / 'out.pth'))['state_dict']
    model = ViG('tiny')
    model.load_state_dict({k[9:]: v for k, v in converted.items()
                           if k.startswith('backbone.')})
    assert torch.equal(model.stem[4].norm.running_var,
                       reference.stem[13].running_var)
    assert converted['head.fc1.weight'].shape == (1024, 192)


def test_wrong_arch_and_foreign_files_fail_clearly(authors_file, tmp_path):
    src, _ = authors_file
    result = run(src, tmp_path / 'out.pth', '--arch', 'vig-s')
    assert result.returncode != 0
    assert 'checkpoint (24, 3, 3, 3) vs model (40, 3, 3, 3)' in result.stderr
    torch.save({'conv.weight': torch.zeros(3)}, tmp_path / 'resnet.pth')
    result = run(tmp_path / 'resnet.pth', tmp_path / 'out2.pth')
    assert result.returncode != 0
    assert 'is not a ViG checkpoint' in result.stderr
    assert not (tmp_path / 'out2.pth').exists()
