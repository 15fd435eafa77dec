#!/usr/bin/env bash
# Distributed testing with torchrun:
#   tools/dist_test.sh CONFIG CHECKPOINT_OR_URL NUM_PROCS [test.py args]
# PORT (or MASTER_PORT): picked free when unset (one node).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA the processes run on the CPU with the gloo backend.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: tools/dist_test.sh CONFIG CHECKPOINT_OR_URL NUM_PROCS [test.py options]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/torchrun.sh" test.py "$3" \
    "$1" "$2" --launcher pytorch "${@:4}"
