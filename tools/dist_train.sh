#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG NUM_PROCS [train.py args]
# PORT (or MASTER_PORT): picked free when unset (one node).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA the processes train on the CPU with the gloo backend.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py options]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/torchrun.sh" train.py "$2" \
    "$1" --launcher pytorch "${@:3}"
