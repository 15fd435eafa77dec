#!/usr/bin/env bash
# The README's main job (`make demo`): train a Pyramid ViG on real data on the
# CPU and look at what it learned.
#   1. write scikit-learn's handwritten digits as an image folder (data/digits)
#   2. train configs/pvig/pvig-ti_1xb64_digits.py (progress in the log lines)
#   3. evaluate the final checkpoint on the held-out digits
#   4. classify one held-out digit (top-5)
#   5. draw the KNN graph of one node in a shallow and a deep block (PNG)
# Environment: WORK_DIR (default work_dirs/pvig-ti_1xb64_digits).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CONFIG=configs/pvig/pvig-ti_1xb64_digits.py
WORK_DIR=${WORK_DIR:-work_dirs/pvig-ti_1xb64_digits}
IMAGE=data/digits/val/3/0045.png

step() { printf '\n== [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
start=$(date +%s)

step "1/5 data: scikit-learn digits -> data/digits"
$PY tools/dataset_converters/prepare_digits.py --out data/digits

step "2/5 train $CONFIG on the CPU (work dir $WORK_DIR)"
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
CHECKPOINT="$WORK_DIR/$(basename "$(cat "$WORK_DIR/last_checkpoint")")"

step "3/5 evaluate $CHECKPOINT on the held-out digits"
$PY tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" \
    --out "$WORK_DIR/test_metrics.json" --out-item metrics

step "4/5 classify $IMAGE"
$PY demo/image_demo.py "$IMAGE" "$CONFIG" --checkpoint "$CHECKPOINT"

step "5/5 KNN graph of one node (paper Fig. 4)"
$PY tools/visualization/vis_knn_graph.py "$IMAGE" "$CONFIG" "$CHECKPOINT" \
    --out "$WORK_DIR/knn_graph.png" --node 0.55 0.55

accuracy=$($PY -c "import json, sys; print(f\"{json.load(open(sys.argv[1]))['accuracy/top1']:.2f}\")" \
    "$WORK_DIR/test_metrics.json")
step "done in $(( $(date +%s) - start )) s: top-1 on the 360 held-out digits ${accuracy}%"
echo "   graph: $WORK_DIR/knn_graph.png"
