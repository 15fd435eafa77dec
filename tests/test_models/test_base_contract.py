"""What every Vision GNN backbone shares (VisionGNNBase): arch aliases, the
table of model names, and out_indices that leave no trainable parameter
without a gradient (what DDP without find_unused_parameters needs)."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from mmvig.models import (MODEL_NAMES, AdaptViG, GreedyViG, MobileViG,
                          MobileViGv2, PyramidViG, ViG, model_name)
from mmvig.models.model_names import ARCH_ALIASES

#: Small archs of each family (4 outputs; ViG's outputs are its blocks).
SMALL = {
    ViG: dict(depth=4, channels=32),
    PyramidViG: dict(depths=[1, 1, 1, 1], channels=[16, 24, 32, 40]),
    MobileViG: dict(depths=[1, 1, 1, 2], graph_depths=[0, 0, 0, 1],
                    channels=[16, 24, 32, 40]),
    GreedyViG: dict(depths=[2, 2, 2, 2], graph_depths=[1, 1, 1, 1],
                    channels=[16, 24, 32, 40]),
    MobileViGv2: dict(depths=[1, 2, 2, 2], graph_depths=[0, 1, 1, 1],
                      channels=[16, 24, 32, 40]),
    AdaptViG: dict(depths=[2, 2, 2, 2], graph_depths=[1, 1, 1, 1],
                   channels=[16, 24, 32, 40]),
}


@pytest.mark.parametrize('cls', list(SMALL), ids=lambda c: c.__name__)
def test_short_and_long_arch_names_are_the_same_arch(cls):
    for short, long in ARCH_ALIASES.items():
        if short in cls.arch_settings:
            assert cls.arch_settings[long] == cls.arch_settings[short]
    names = set(cls.arch_settings)
    assert names <= set(ARCH_ALIASES) | set(ARCH_ALIASES.values())
    with pytest.raises(ValueError, match=f'unknown {cls.__name__} arch'):
        cls('huge')


def test_model_names_cover_every_arch_of_every_family():
    expected = {
        f'{prefix}-{short}'
        for prefix, cls in (('vig', ViG), ('pvig', PyramidViG),
                            ('mobilevig', MobileViG), ('greedyvig', GreedyViG),
                            ('mobilevigv2', MobileViGv2),
                            ('adaptvig', AdaptViG))
        for short in ARCH_ALIASES if short in cls.arch_settings}
    assert expected <= set(MODEL_NAMES)
    assert len(expected) == 21
    assert model_name('pvig-s').backbone is PyramidViG
    assert model_name('mobilevig-ti').hidden_channels == 512
    assert model_name('mobilevigv2-b').hidden_channels == 768
    assert model_name('adaptvig-s').backbone is AdaptViG
    with pytest.raises(KeyError, match="unknown model name 'pvig-xl'"):
        model_name('pvig-xl')


@pytest.mark.parametrize('cls', list(SMALL), ids=lambda c: c.__name__)
def test_every_trainable_parameter_gets_a_gradient_with_early_outputs(cls):
    torch.manual_seed(0)
    full = cls(SMALL[cls], out_indices=(0, 1, 2, 3))
    model = cls(SMALL[cls], out_indices=(0, 1, 2)).train()
    # The same keys: classification checkpoints still load strictly.
    model.load_state_dict(full.state_dict(), strict=True)
    outs = model(torch.randn(2, 3, 64, 64))
    assert len(outs) == 3
    sum(o.mean() for o in outs).backward()
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    missing = [n for n, p in model.named_parameters()
               if p.requires_grad and p.grad is None]
    assert trainable and not missing, missing
    # The last stage is what is left out (ViG: its last block).
    last = 'blocks.3.' if cls is ViG else 'stages.3.'
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {n for n, _ in model.named_parameters()
                      if n.startswith(last)}
    # train() keeps them out.
    model.train()
    assert not any(p.requires_grad for n, p in model.named_parameters()
                   if n.startswith(last))


def test_leaving_out_stages_is_said_when_built():
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        PyramidViG(SMALL[PyramidViG], out_indices=(0, 1))
        PyramidViG(SMALL[PyramidViG], out_indices=(0, 3))
    finally:
        logger.removeHandler(handler)
    messages = [r.getMessage() for r in records
                if 'are not run' in r.getMessage()]
    assert len(messages) == 1
    assert 'stages after 1 are not run and not trained' in messages[0]
