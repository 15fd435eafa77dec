"""Mixed-precision training on the CPU, for ``tools/train.py --amp``.

mmengine's ``AmpOptimWrapper`` refuses to run without a GPU. On the CPU,
autocast computes in bfloat16, which has float32's exponent range: gradients
do not underflow, so no loss scaling is needed, only the autocast context
around the forward pass.
"""
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mmvig.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``AmpOptimWrapper`` for the CPU: bfloat16 autocast, no loss scaler.

    Args:
        dtype (str | torch.dtype): the autocast dtype; CPUs autocast to
            bfloat16 only. Defaults to ``'bfloat16'``.
        **kwargs: :class:`mmengine.optim.OptimWrapper` arguments.
    """

    def __init__(self, dtype='bfloat16', **kwargs):
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                f'CPUAmpOptimWrapper: autocast on the CPU computes in '
                f'bfloat16 only, got dtype={dtype!r}')
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield

    def load_state_dict(self, state_dict):
        # A GPU AMP run's checkpoint also holds its float16 loss scaler.
        state_dict = dict(state_dict)
        if state_dict.pop('loss_scaler', None) is not None:
            print_log('CPUAmpOptimWrapper: the checkpoint\'s loss scaler '
                      'state is not used (bfloat16 needs no loss scaling)',
                      logger='current')
        super().load_state_dict(state_dict)
