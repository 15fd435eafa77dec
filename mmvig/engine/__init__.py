"""What mmvig's tools share: config handling and building mmengine's Runner
on GPUs or CPUs."""
from .amp import CPUAmpOptimWrapper
from .launch import (add_shared_args, build_runner, prepare_config,
                     setup_distributed)

__all__ = [
    'CPUAmpOptimWrapper', 'add_shared_args', 'build_runner', 'prepare_config', 'setup_distributed'
]
