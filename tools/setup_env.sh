#!/usr/bin/env bash
# Create (or verify) mmvig's environment in .venv/ at the repository root.
#
# Idempotent: when .venv/ holds what requirements/*.txt and this script ask for,
# it only re-checks the imports (a few seconds). mmcv 2.1.0 is built from source
# with its C++ ops (~12 min on 2 cores) once per (mmcv, torch, Python) and the
# built wheel is cached outside the checkout in $MMVIG_CACHE (default
# ~/.cache/mmvig), because pip's own cache does not key on the torch version.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PYTHON=${PYTHON:-python3.11}
CACHE=${MMVIG_CACHE:-$HOME/.cache/mmvig}
TORCH_VERSION=2.13.0
MMCV_VERSION=2.1.0
STAMP="$VENV/.mmvig-setup"

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# Everything that decides the environment's content goes into its fingerprint.
fingerprint() {
    cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}

verify() {
    "$PY" - <<'EOF'
import torch, torchvision
import mmvig, mmpretrain.models, mmdet.models, mmseg.models
import onnx, onnxruntime
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [50., 50., 60., 60.]])
_, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
assert keep.tolist() == [0, 2], keep
print(f'mmvig {mmvig.__version__} | torch {torch.__version__} | '
      f'torchvision {torchvision.__version__} | mmcv.ops.nms OK on CPU | '
      f'onnxruntime {onnxruntime.__version__}')
EOF
}

# The registry build reports e.g. 2.13.0+cu130; the local 2.13.0+cpu wheel cannot run torchvision.
# After the first install the exact build string must never change.
check_torch() {
    local have
    have=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo none)
    case "$have" in
        "$TORCH_VERSION"+cpu|none) die "torch is '$have' after $1: expected the registry build of $TORCH_VERSION." ;;
        "$TORCH_VERSION"|"$TORCH_VERSION"+*) ;;
        *) die "torch is '$have' after $1, expected $TORCH_VERSION. Something upgraded or replaced torch." ;;
    esac
    if [ -z "${TORCH_BUILD:-}" ]; then TORCH_BUILD=$have
    elif [ "$have" != "$TORCH_BUILD" ]; then die "torch changed from $TORCH_BUILD to $have during $1."; fi
}

if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ]; then
    verify && exit 0
    log "environment present but broken: rebuilding"
fi

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: mmvig's pinned stack needs Python 3.11 (set PYTHON=...)"
[ -x "$PY" ] || { log "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
rm -f "$STAMP"

# Every install below is constrained to the exact torch/torchvision builds.
CONSTRAINTS="$VENV/constraints.txt"
grep -E '^(torch|torchvision)===' "$ROOT/requirements/runtime.txt" > "$CONSTRAINTS"
pip_install() { "$PY" -m pip install --quiet --progress-bar off -c "$CONSTRAINTS" "$@"; }

log "installing torch $TORCH_VERSION and torchvision from the registry"
pip_install -r "$ROOT/requirements/runtime.txt"
check_torch "torch install"

log "installing build tools and mmengine"
pip_install -r "$ROOT/requirements/build.txt" mmengine==0.10.7
check_torch "mmengine install"

if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    PYV=$("$PY" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')
    WHEELS="$CACHE/mmcv-$MMCV_VERSION-torch$TORCH_BUILD-$PYV"
    if ! ls "$WHEELS"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv $MMCV_VERSION with ops against torch $TORCH_VERSION (~12 min on 2 cores) into $WHEELS"
        mkdir -p "$WHEELS.tmp"
        MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" -m pip wheel --no-deps \
            --no-build-isolation --no-cache-dir -w "$WHEELS.tmp" "mmcv==$MMCV_VERSION"
        mv "$WHEELS.tmp" "$WHEELS"   # only a finished build lands in the cache
    else
        log "using cached mmcv wheel from $WHEELS"
    fi
    pip_install --no-deps "$WHEELS"/mmcv-*.whl
fi
check_torch "mmcv install"

log "installing mmpretrain, mmdet, mmseg, ONNX and the test requirements"
NUMPY=$("$PY" -c 'import numpy; print(numpy.__version__)')
# onnx and onnxruntime would happily move numpy: keep the one torch came with.
pip_install -r "$ROOT/requirements/mminstall.txt" -r "$ROOT/requirements/deploy.txt" \
    -r "$ROOT/requirements/tests.txt" "numpy==$NUMPY"
check_torch "mmpretrain/mmdet/mmseg/onnx install"

log "installing mmvig (editable)"
pip_install --no-deps --no-build-isolation -e "$ROOT"
check_torch "mmvig install"

verify
fingerprint > "$STAMP"
log "environment ready in $VENV"
