"""Config handling and Runner construction for mmvig's tools.

Nothing here is specific to classification: the Runner comes from the
config (``runner_type`` or mmengine's ``Runner``), so the same tools run
mmpretrain and mmdet configs.

Distributed runs on machines without CUDA use gloo. mmengine's
``init_dist`` pins every process to a CUDA device and its DDP wrapper passes
``device_ids=[LOCAL_RANK]``; both fail on a CPU, so :func:`setup_distributed`
starts the gloo process group itself (mmengine then skips its own) and asks
for a device-less DDP.
"""
import datetime
import glob
import os
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.registry import MODEL_WRAPPERS, RUNNERS
from mmengine.runner import Runner
from torch.nn.parallel import DistributedDataParallel


def add_shared_args(parser):
    """Add the options train.py and test.py share to ``parser``:
    ``--work-dir``, ``--cfg-options`` and the launcher."""
    parser.add_argument('--work-dir', help='the dir to save logs, '
                        'checkpoints and metrics')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs (lists as '
        'key="[a,b]"); merged last')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def nvidia_devices():
    """The NVIDIA GPUs this node's driver exposes (``/dev/nvidia<N>``)."""
    return sorted(glob.glob('/dev/nvidia[0-9]*'))


def check_cuda():
    """Refuse to run on the CPU a job that was meant for GPUs.

    A node with NVIDIA GPUs whose CUDA torch cannot use (a broken or too old
    driver, a CPU-only build of torch) would otherwise train on the CPU with
    gloo and, with ``--amp``, the CPU's bfloat16 wrapper. A CPU run on such a
    node is asked for explicitly with ``CUDA_VISIBLE_DEVICES=`` (empty) or
    ``-1``.

    Raises:
        RuntimeError: GPUs are present and visible, CUDA is not usable.
    """
    visible = os.environ.get('CUDA_VISIBLE_DEVICES')
    if torch.cuda.is_available() or visible is not None and \
            visible.strip() in ('', '-1'):
        return
    devices = nvidia_devices()
    if not devices:
        return
    build = (f'torch {torch.__version__} built for CUDA {torch.version.cuda}'
             if torch.version.cuda else
             f'torch {torch.__version__} is a CPU-only build')
    raise RuntimeError(
        f'this node has NVIDIA GPUs ({", ".join(devices)}) but torch cannot '
        f'use CUDA ({build}; torch.cuda.is_available() is False: check the '
        f'driver with nvidia-smi). Fix CUDA, or run on the CPU explicitly '
        f'with CUDA_VISIBLE_DEVICES= (empty).')


def prepare_config(args, dataloaders, merge=None):
    """Load ``args.config`` and apply the options train and test share.

    ``args`` needs ``config`` and the options of :func:`add_shared_args`.

    Args:
        dataloaders (Sequence[str]): dataloader fields that get the tools'
            defaults where unset: persistent workers when there are
            workers, pinned memory only with CUDA (pinning without a GPU
            only warns).
        merge (callable, optional): ``merge(cfg)`` applies a tool's own
            options, before ``--cfg-options``, which win.

    Returns:
        Config: the config.

    Raises:
        RuntimeError: from :func:`check_cuda`.
        ValueError: ``--launcher mpi`` outside ``mpirun``.
    """
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    check_cuda()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.launcher == 'mpi':
        # mmengine's MPI set-up takes the device from OpenMPI's local rank,
        # its DDP wrapper from LOCAL_RANK: both must name the same GPU.
        if 'OMPI_COMM_WORLD_LOCAL_RANK' not in os.environ:
            raise ValueError(
                '--launcher mpi needs OpenMPI\'s OMPI_COMM_WORLD_LOCAL_RANK '
                '(start the job with mpirun)')
        os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    # work_dir: command line, then the config, then the config's name.
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(args.config))[0])
    if merge is not None:
        merge(cfg)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # Last, so that they follow --cfg-options (e.g. num_workers=0) and
    # never override a value set anywhere.
    for field in dataloaders:
        loader = cfg.get(field)
        if loader is None:
            continue
        loader.setdefault('pin_memory', torch.cuda.is_available())
        loader.setdefault('persistent_workers',
                          loader.get('num_workers', 0) > 0)
    return cfg


def setup_distributed(cfg):
    """Start the gloo process group for a CPU-only distributed run.

    Does nothing for ``launcher='none'`` or when CUDA is available (mmengine
    then starts the backend of ``env_cfg.dist_cfg``, nccl in mmvig's
    configs). Without CUDA it reads the torchrun environment (``RANK``,
    ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), starts gloo and sets
    ``model_wrapper_cfg`` to a DDP without device ids.

    Raises:
        ValueError: a CPU-only run with a launcher other than ``pytorch``.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise ValueError(
            f'no CUDA device: CPU-only distributed runs need --launcher '
            f'pytorch (tools/dist_train.sh, tools/dist_test.sh), got '
            f'--launcher {launcher}')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'  # what the Runner logs as its environment
    if not dist.is_initialized():
        timeout = dist_cfg.get('timeout')
        # torch < 2.2 refuses timeout=None: leave it out for the default.
        dist.init_process_group('gloo', **(
            dict(timeout=datetime.timedelta(seconds=timeout))
            if timeout else {}))
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    if issubclass(MODEL_WRAPPERS.get(wrapper['type']),
                  DistributedDataParallel):
        wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    # Printed by every rank (mmengine's logger is quiet on ranks other
    # than 0).
    print(f'rank {dist.get_rank()} of {dist.get_world_size()}: no CUDA '
          f'device, running on the CPU with the gloo backend', flush=True)


def build_runner(cfg):
    """The config's Runner (``runner_type`` or mmengine's ``Runner``), after
    :func:`setup_distributed`."""
    setup_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
