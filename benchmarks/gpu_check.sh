#!/usr/bin/env bash
# One GPU check, at most about 8 minutes (GPU_CHECK_S=300 and TRAIN_S=150 cap its two parts) on one GPU: seconds per full-size tomogram for one model and for the 10-model
# 2nd-place ensemble (device vs host accumulator; written first), the bytes moved host<->device (computed), then the
# per-architecture sweep (fp16 and bf16) and unet_v1 training steps/s (Lightning vs a bare loop).
# Usage: bash benchmarks/gpu_check.sh [RESULTS_DIR]   (default: benchmarks/results)
# Record which card produced the figures: the result files name it.
set -euo pipefail
cd "$(dirname "$0")/.."
RES="${1:-benchmarks/results}"
mkdir -p "$RES"
PY="${PYTHON:-python3}"  # the GPU image's python3 holds torch
if ! "$PY" -c "import cryo_infer, cryo_train" 2>/dev/null; then
  if [ -d .whl ]; then  # no network on a lent GPU machine: the wheelhouse of benchmarks/gpu_wheels.sh, nothing else
    PYTHON="$PY" source benchmarks/wheel_install.sh .whl "${CRYO_SITE:-/tmp/cryo-site}"
  else
    "$PY" -m pip install -q -e packages/cryo-metric -e packages/cryo-data -e packages/cryo-models -e packages/cryo-infer -e packages/cryo-train
  fi
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$RES/gpu_info.txt" || true
"$PY" benchmarks/transfer_bytes.py --results "$RES" >/dev/null || echo "transfer_bytes.py failed"
timeout "${GPU_CHECK_S:-300}" "$PY" benchmarks/gpu_check.py --results "$RES" || echo "gpu_check.py: failed or timed out (headline figures, if any, are in $RES/gpu_check.md)"
timeout "${TRAIN_S:-150}" "$PY" benchmarks/train_cpu.py --minutes 0.5 --results "$RES/train_gpu" || echo "train section failed"
