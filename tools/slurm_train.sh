#!/usr/bin/env bash
# Training on a Slurm cluster:
#   [GPUS=8] tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# GPUS_PER_NODE (default 8) is capped at GPUS, so that fewer GPUs than a node
# holds run on one node. MASTER_PORT (or PORT): one free port on this machine
# is picked when unset (under sbatch this script runs on the job's first node,
# the master); set it when launching from elsewhere.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: [GPUS=8] tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
    exit 2
fi
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
GPUS_PER_NODE=$(( GPUS < GPUS_PER_NODE ? GPUS : GPUS_PER_NODE ))
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
# The repository's environment (tools/setup_env.sh) unless PYTHON is set.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_PYTHON=python
[ -x "$ROOT/.venv/bin/python" ] && DEFAULT_PYTHON=$ROOT/.venv/bin/python
PYTHON=${PYTHON:-$DEFAULT_PYTHON}
source "$ROOT/tools/master_port.sh"
# mmengine's slurm launcher reads MASTER_PORT.
MASTER_PORT=$(master_port "$PYTHON" 1)
export MASTER_PORT

# SRUN_ARGS is split into words on purpose.
# shellcheck disable=SC2086
PYTHONPATH="$ROOT":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "${@:5}"
