"""Classification head of ViG and Pyramid ViG."""
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmpretrain.models.heads import ClsHead

from mmvig.registry import MODELS


@MODELS.register_module()
class ViGClsHead(ClsHead):
    """Global average pool, ``Linear(C, hidden) -> norm -> act -> dropout ->
    Linear(hidden, num_classes)``.

    Args:
        num_classes (int): number of classes.
        in_channels (int): channels of the backbone's last output.
        hidden_channels (int): width of the hidden layer. Defaults to 1024.
        dropout (float): dropout before the classifier. Defaults to 0.
        norm_cfg (dict): norm of the hidden layer. Defaults to
            ``dict(type='BN1d')``.
        act_cfg (dict): activation. Defaults to ``dict(type='GELU')``.
        init_cfg (dict): defaults to the authors' Kaiming normal (fan-in)
            on both linear layers, zero bias.
        **kwargs: :class:`mmpretrain.models.heads.ClsHead` arguments
            (``loss``, ``topk``, ``cal_acc``).
    """

    def __init__(self, num_classes, in_channels, hidden_channels=1024,
                 dropout=0., norm_cfg=dict(type='BN1d'),
                 act_cfg=dict(type='GELU'),
                 init_cfg=dict(type='Kaiming', layer='Linear', mode='fan_in',
                               nonlinearity='leaky_relu', a=0, bias=0),
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.fc1 = nn.Linear(in_channels, hidden_channels)
        self.norm = build_norm_layer(norm_cfg, hidden_channels)[1]
        self.act = build_activation_layer(act_cfg)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden_channels, num_classes)

    def pre_logits(self, feats):
        """Hidden features ``(B, hidden)`` of the last backbone output, a map
        ``(B, C, H, W)`` (pooled here) or already pooled ``(B, C)``."""
        x = feats[-1]
        if x.dim() == 4:
            x = x.mean(dim=(2, 3))
        return self.drop(self.act(self.norm(self.fc1(x))))

    def forward(self, feats):
        return self.fc2(self.pre_logits(feats))
