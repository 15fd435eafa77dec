# Sourced by tools/torchrun.sh and tools/slurm_train.sh.
# master_port PYTHON NNODES: $PORT, else $MASTER_PORT, else (one node only)
# a port free on this machine now, so that two jobs on a node do not
# collide on a fixed 29500. Several nodes must agree on one port: set it.
master_port() {
    local port=${PORT:-${MASTER_PORT:-}}
    if [ -z "$port" ]; then
        if [ "$2" -gt 1 ]; then
            echo "set PORT (or MASTER_PORT) to one free port, the same on all $2 nodes" >&2
            return 2
        fi
        port=$("$1" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
    fi
    echo "$port"
}
