"""Classification head of MobileViG and GreedyViG: a class head and a
distillation head on the same hidden features, averaged at inference."""
import torch.nn as nn

from mmvig.registry import MODELS
from .vig_head import ViGClsHead


@MODELS.register_module()
class DistilledViGClsHead(ViGClsHead):
    """Global average pool, ``Linear(C, hidden) -> norm -> act -> dropout``,
    then two classifiers ``fc2`` (the authors' ``head``) and ``fc2_dist``
    (``dist_head``).

    The authors train ``dist_head`` DeiT-style on the hard labels of a
    RegNetY-16GF teacher and predict with the mean of both heads' logits.
    Here prediction is the same mean; training has no teacher, so both heads
    learn from the ground-truth labels, the loss the mean of theirs (DeiT's
    hard distillation with the teacher's labels replaced by the truth).

    Args:
        distillation (bool): build ``fc2_dist``. Defaults to True (the
            released weights have it); without it the head is
            :class:`ViGClsHead`.
        **kwargs: :class:`ViGClsHead` arguments (``num_classes``,
            ``in_channels``, ``hidden_channels``, ``dropout``, ``loss`` ...).
    """

    def __init__(self, *args, distillation=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fc2_dist = nn.Linear(self.fc2.in_features, self.num_classes) \
            if distillation else None

    def _classifiers(self):
        return [fc for fc in (self.fc2, self.fc2_dist) if fc is not None]

    def forward(self, feats):
        hidden = self.pre_logits(feats)
        logits = [fc(hidden) for fc in self._classifiers()]
        return sum(logits) / len(logits)

    def loss(self, feats, data_samples, **kwargs):
        hidden = self.pre_logits(feats)
        per_head = [self._get_loss(fc(hidden), data_samples, **kwargs)
                    for fc in self._classifiers()]
        return {name: sum(losses[name] for losses in per_head) / len(per_head)
                for name in per_head[0]}
