#!/usr/bin/env bash
# Runs one of the tools in NUM_PROCS processes with torchrun; used by
# dist_train.sh and dist_test.sh:  tools/torchrun.sh TOOL.py NUM_PROCS [tool args]
# PORT (or MASTER_PORT): the rendezvous port; one free port is picked when
# unset. Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA the processes run on the CPU with the gloo backend.
set -euo pipefail
TOOL=$1
NUM_PROCS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
# The repository's environment (tools/setup_env.sh) unless PYTHON is set.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_PYTHON=python
[ -x "$ROOT/.venv/bin/python" ] && DEFAULT_PYTHON=$ROOT/.venv/bin/python
PYTHON=${PYTHON:-$DEFAULT_PYTHON}
source "$ROOT/tools/master_port.sh"
PORT=$(master_port "$PYTHON" "$NNODES")

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NUM_PROCS" \
    --master_port="$PORT" \
    "$ROOT/tools/$TOOL" "${@:3}"
