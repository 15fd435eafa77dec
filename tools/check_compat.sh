#!/usr/bin/env bash
# Check mmvig at the ends of its declared version ranges. For each named spec in
# requirements/compat/ (default: lowest newest) it builds an environment under
# $MMVIG_CACHE/compat/NAME (mmcv wheels cached by tools/build_mmcv.sh), installs the
# libraries the spec pins, checks that installing mmvig with all its extras there changes
# no installed package (pip's dry run) and leaves `pip check` clean, then runs the fast test
# suite. One markdown table row per environment goes to $MMVIG_CACHE/compat/NAME/row.md and
# to stdout (docs/setup.md holds the table).
# usage: tools/check_compat.sh [SPEC...]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MMVIG_CACHE:-$HOME/.cache/mmvig}
log() { printf '[compat %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[compat] ERROR: %s\n' "$*" >&2; exit 1; }

find_python() {  # python3.X from PATH, else from pyenv's versions
    local exe="python$1" root
    if command -v "$exe" >/dev/null && "$exe" -c '' 2>/dev/null; then command -v "$exe"; return; fi
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for p in "$root"/versions/"$1".*/bin/"$exe"; do [ -x "$p" ] && { echo "$p"; return; }; done
    die "$exe not found (needed by requirements/compat/$NAME.txt)"
}

check() {
    NAME=$1
    local spec="$ROOT/requirements/compat/$NAME.txt" env="$CACHE/compat/$1"
    [ -f "$spec" ] || die "no spec requirements/compat/$NAME.txt"
    local py="$env/bin/python" pyv
    pyv=$(sed -n 's/^# python: //p' "$spec")
    # The spec is the only constraint: it replaces any constraint file in the pip config.
    export PIP_CONSTRAINT="$spec"
    pip_install() { "$py" -m pip install --quiet --progress-bar off "$@"; }
    [ -x "$py" ] || { log "$NAME: creating $env with Python $pyv"; "$(find_python "$pyv")" -m venv "$env"; }

    log "$NAME: torch, torchvision, build tools, mmengine"
    pip_install torch torchvision numpy mmengine -r "$ROOT/requirements/build.txt"
    "$ROOT/tools/build_mmcv.sh" "$py" "$(sed -n 's/^mmcv==//p' "$spec")"
    log "$NAME: the libraries of every extra, at the spec's versions"
    pip_install -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/mminstall.txt" \
        -r "$ROOT/requirements/det.txt" -r "$ROOT/requirements/seg.txt" \
        -r "$ROOT/requirements/deploy.txt" -r "$ROOT/requirements/tests.txt"

    log "$NAME: installing mmvig[mim,det,seg,deploy] must change nothing else"
    local dry would
    dry=$(PIP_CONSTRAINT=/dev/null "$py" -m pip install --dry-run --no-build-isolation \
        "$ROOT[mim,det,seg,deploy]" 2>&1) || die "$NAME: pip's dry run failed:"$'\n'"$dry"
    would=$(sed -n 's/^Would install //p' <<<"$dry" | tr ' ' '\n' | grep -v '^mmvig-' || true)
    [ -z "$would" ] || die "$NAME: installing mmvig would change: $would"
    PIP_CONSTRAINT=/dev/null pip_install --no-deps --no-build-isolation "$ROOT"
    "$py" -m pip check || die "$NAME: pip check fails with mmvig installed"

    log "$NAME: fast test suite"
    local versions summary
    versions=$("$py" -c 'import sys, torch, torchvision, mmengine, mmcv, numpy
print(f"{sys.version.split()[0]} | {torch.__version__} | {torchvision.__version__} | "
      f"{mmengine.__version__} | {mmcv.__version__} | {numpy.__version__}")')
    # A failing test still gives the environment its row.
    summary=$(cd "$ROOT" && { "$py" -m pytest -q -p no:cacheprovider tests 2>&1 || true; } |
        tee "$env/pytest.log" | tail -1)
    printf '| %s | %s | %s | `pip check` clean, dry run installs only mmvig |\n' \
        "$NAME" "$versions" "$summary" | tee "$env/row.md"
}

specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(lowest newest)
for name in "${specs[@]}"; do check "$name"; done
