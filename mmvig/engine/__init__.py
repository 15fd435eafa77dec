"""What mmvig's tools share: config handling and building mmengine's Runner
on GPUs or CPUs."""
from mmengine.logging import HistoryBuffer

from .launch import build_runner, prepare_config, setup_distributed

# Workaround: mmvig.checkpoint allows getattr(HistoryBuffer, 'mean') etc.
# only for names in HistoryBuffer._statistics_methods, a class dict mmengine
# fills when the first HistoryBuffer is created. In a fresh process (test.py,
# --resume, the demos) it is still empty and every mmengine checkpoint is
# refused; creating one buffer fills it. Remove once mmvig.checkpoint checks
# the method names without relying on that side effect.
HistoryBuffer()

__all__ = ['build_runner', 'prepare_config', 'setup_distributed']
