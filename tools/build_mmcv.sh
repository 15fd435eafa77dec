#!/usr/bin/env bash
# Install mmcv with its C++ ops into the environment of the Python given, building the
# wheel from source once per (mmcv, torch build, Python) and caching it outside the
# checkout in $MMVIG_CACHE (default ~/.cache/mmvig): pip's own cache does not key on the
# torch version the ops were compiled against.
# usage: tools/build_mmcv.sh PYTHON MMCV_VERSION [pip install options...]
set -euo pipefail

PY=$1 MMCV_VERSION=$2
shift 2
CACHE=${MMVIG_CACHE:-$HOME/.cache/mmvig}
log() { printf '[mmcv %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    exit 0
fi
read -r TORCH_BUILD PYV < <("$PY" -c 'import sys, torch
print(torch.__version__, f"cp{sys.version_info.major}{sys.version_info.minor}")')
WHEELS="$CACHE/mmcv-$MMCV_VERSION-torch$TORCH_BUILD-$PYV"
if ! ls "$WHEELS"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with ops against torch $TORCH_BUILD (~12-20 min on 2 cores) into $WHEELS"
    rm -rf "$WHEELS.tmp" && mkdir -p "$WHEELS.tmp"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" -m pip wheel --no-deps \
        --no-build-isolation --no-cache-dir -w "$WHEELS.tmp" "mmcv==$MMCV_VERSION"
    mv "$WHEELS.tmp" "$WHEELS"   # only a finished build lands in the cache
else
    log "using cached mmcv wheel from $WHEELS"
fi
"$PY" -m pip install --quiet --progress-bar off --no-deps "$@" "$WHEELS"/mmcv-*.whl
