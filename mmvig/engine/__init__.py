"""Runner parts mmengine builds from configs: the CPU mixed-precision
optimiser wrapper (``type='mmvig.CPUAmpOptimWrapper'``)."""
from .amp import CPUAmpOptimWrapper

__all__ = ['CPUAmpOptimWrapper']
