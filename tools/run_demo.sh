#!/usr/bin/env bash
# The README's main job: build every model mmvig registers and print a table.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python tools/analysis_tools/model_table.py "$@"
