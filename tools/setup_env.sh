#!/usr/bin/env bash
# Create (or verify) mmvig's environment in .venv/ at the repository root.
#
# The exact versions come from requirements/lock.txt, used as pip constraints for
# every install (setup.py itself declares ranges). Idempotent: when .venv/ holds
# what requirements/*.txt and this script ask for, it only re-checks the imports
# (a few seconds). mmcv is built from source with its C++ ops (~12 min on 2 cores)
# once per (mmcv, torch, Python) by tools/build_mmcv.sh, which caches the wheel.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PYTHON=${PYTHON:-python3.11}
LOCK="$ROOT/requirements/lock.txt"
TORCH_VERSION=$(sed -n 's/^torch===//p' "$LOCK")
MMCV_VERSION=$(sed -n 's/^mmcv==//p' "$LOCK")
STAMP="$VENV/.mmvig-setup"

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# Everything that decides the environment's content goes into its fingerprint.
fingerprint() {
    cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}" "$ROOT/tools/build_mmcv.sh" | sha256sum | cut -d' ' -f1
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

# Every install below is constrained to the exact versions of the lock file.
pip_install() { "$PY" -m pip install --quiet --progress-bar off -c "$LOCK" "$@"; }

log "installing torch $TORCH_VERSION and torchvision from the registry"
pip_install torch torchvision numpy
check_torch "torch install"

log "installing build tools and mmengine"
pip_install -r "$ROOT/requirements/build.txt" mmengine
check_torch "mmengine install"

"$ROOT/tools/build_mmcv.sh" "$PY" "$MMCV_VERSION" -c "$LOCK"
check_torch "mmcv install"

log "installing mmvig (editable) with mmpretrain, mmdet, mmseg, ONNX and the test requirements"
NUMPY=$("$PY" -c 'import numpy; print(numpy.__version__)')
# onnx and onnxruntime would happily move numpy: keep the one torch came with.
pip_install --no-build-isolation -e "$ROOT[mim,det,seg,deploy,tests]" "numpy==$NUMPY"
check_torch "mmvig install"

verify
fingerprint > "$STAMP"
log "environment ready in $VENV"
