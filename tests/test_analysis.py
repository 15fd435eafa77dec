import pytest
import torch.nn as nn

from mmvig.analysis import count_flops
from mmvig.models import PyramidViG, ViG, ViGClsHead

PUBLISHED_GFLOPS = {(ViG, 'tiny'): 1.31, (ViG, 'small'): 4.54,
                    (ViG, 'base'): 17.68, (PyramidViG, 'tiny'): 1.71,
                    (PyramidViG, 'small'): 4.57, (PyramidViG, 'medium'): 8.89,
                    (PyramidViG, 'base'): 16.86}


class Classifier(nn.Module):

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.head = ViGClsHead(1000, backbone.out_channels[-1])

    def forward(self, x):
        return self.head(self.backbone(x))


@pytest.mark.parametrize('cls,arch', list(PUBLISHED_GFLOPS))
def test_flops_within_two_percent_of_published(cls, arch):
    flops = count_flops(Classifier(cls(arch)), (1, 3, 224, 224))
    published = PUBLISHED_GFLOPS[(cls, arch)] * 1e9
    assert abs(flops['total'] - published) <= 0.02 * published
    assert flops['knn'] > 0
    assert (flops['relative_pos'] > 0) == (cls is PyramidViG)
