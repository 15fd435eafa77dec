from .vig_head import ViGClsHead

__all__ = ['ViGClsHead']
