# mmpretrain's runtime for mmvig's classification configs, keeping the last
# three checkpoints.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['mmvig'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
