from .distilled_head import DistilledViGClsHead
from .vig_head import ViGClsHead

__all__ = ['ViGClsHead', 'DistilledViGClsHead']
