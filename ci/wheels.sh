#!/usr/bin/env bash
# Build the wheels of the five packages into a wheelhouse (default: dist/), replacing earlier cryo wheels there.
# Then one package installs with its siblings from it, in any environment:
#     pip install --find-links dist cryo-infer          (with PIP_CONSTRAINT=ci/constraints.txt on CPU machines)
#
# Usage: bash ci/wheels.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-dist}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
rm -f "$OUT"/cryo_metric-*.whl "$OUT"/cryo_data-*.whl "$OUT"/cryo_models-*.whl "$OUT"/cryo_infer-*.whl "$OUT"/cryo_train-*.whl
for pkg in cryo-metric cryo-data cryo-models cryo-infer cryo-train; do
  "$PY" -m pip wheel --no-deps --quiet --wheel-dir "$OUT" "packages/$pkg" || { echo "wheels: building $pkg failed" >&2; exit 1; }
done
ls -1 "$OUT"/cryo_*.whl
