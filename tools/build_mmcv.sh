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
    rm -rf "$WHEELS.tmp" && mkdir -p "$WHEELS.tmp/src"
    SOURCE="mmcv==$MMCV_VERSION"
    # torch 2.15's headers need C++20, and mmcv's setup.py asks for C++17:
    # then build from a copy of mmcv's sdist that asks for C++20.
    if "$PY" -c 'import os, sys, torch.utils.cpp_extension as ext
aten = os.path.join(ext.include_paths()[0], "ATen", "ATen.h")
sys.exit("C++20 or later" not in open(aten).read())'; then
        log "torch $TORCH_BUILD needs C++20: building mmcv with -std=c++20"
        "$PY" -m pip download --quiet --no-deps --no-build-isolation --no-binary mmcv \
            -d "$WHEELS.tmp/src" "mmcv==$MMCV_VERSION"
        tar xzf "$WHEELS.tmp/src/mmcv-$MMCV_VERSION.tar.gz" -C "$WHEELS.tmp/src"
        SOURCE="$WHEELS.tmp/src/mmcv-$MMCV_VERSION"
        sed -i 's/-std=c++17/-std=c++20/g' "$SOURCE/setup.py"
    fi
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" -m pip wheel --no-deps \
        --no-build-isolation --no-cache-dir -w "$WHEELS.tmp" "$SOURCE"
    rm -rf "$WHEELS.tmp/src"
    mv "$WHEELS.tmp" "$WHEELS"   # only a finished build lands in the cache
else
    log "using cached mmcv wheel from $WHEELS"
fi
"$PY" -m pip install --quiet --progress-bar off --no-deps "$@" "$WHEELS"/mmcv-*.whl
