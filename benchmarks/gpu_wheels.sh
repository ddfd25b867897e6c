#!/usr/bin/env bash
# Fill a wheelhouse (default: the git-ignored .whl/) for a machine that has Python and torch but no network (a lent GPU
# machine, a Kaggle notebook): the five cryo packages plus every dependency a bare torch image lacks, as binary wheels
# for the target CPython. Run it where there is a package index; install there with benchmarks/wheel_install.sh.
#
# Usage: bash benchmarks/gpu_wheels.sh [OUT_DIR]
#   PYVER=312                          target CPython version (default 312: the GPU machines' 3.12; Kaggle images: 311)
#   PLATFORMS="manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 linux_x86_64"
#   PYTHON=python3                     the Python that runs pip here
#   SKIP="pandas pyarrow ..."          more distributions the target already has (not downloaded; its own stay in use)
#   CONSTRAINTS=FILE                   pip constraints for the resolution (e.g. polars==1.31.0: a smaller wheel)
# A lent GPU machine takes at most 64 MiB of wheels: name what its image has in SKIP (see the device's KINDS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-.whl}"
PYVER="${PYVER:-312}"
PY="${PYTHON:-python3}"
PLATFORMS="${PLATFORMS:-manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 linux_x86_64}"
PKGS=(cryo-metric cryo-data cryo-models cryo-infer cryo-train)
# a bare torch image already holds these: torch and its own requirements (never downloaded; the image's stay in use)
TORCH_OWN="torch triton filelock typing-extensions typing_extensions sympy mpmath networkx jinja2 markupsafe fsspec setuptools ${SKIP:-}"
con_args=(); [ -n "${CONSTRAINTS:-}" ] && con_args=(-c "$CONSTRAINTS")
mkdir -p "$OUT"
plat_args=(); for p in $PLATFORMS; do plat_args+=(--platform "$p"); done

# 1. the five packages (pure Python): ci/wheels.sh where it exists, else pip wheel
if [ -f ci/wheels.sh ]; then PYTHON="$PY" bash ci/wheels.sh "$OUT" >/dev/null
else
  rm -f "$OUT"/cryo_*.whl
  for pkg in "${PKGS[@]}"; do "$PY" -m pip wheel --no-deps --quiet --wheel-dir "$OUT" "packages/$pkg"; done
fi

# 2. resolve every dependency for the target Python (binary wheels only), then drop torch's own closure
report="$(mktemp)"
"$PY" -m pip install --dry-run --ignore-installed --quiet --report "$report" --only-binary=:all: \
  --python-version "$PYVER" --implementation cp "${plat_args[@]}" --target "$(mktemp -d)" \
  --find-links "$OUT" "${con_args[@]}" "${PKGS[@]}"
"$PY" - "$report" "$TORCH_OWN" > "$OUT/requirements.txt" <<'PYEOF'
import json, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
skip = {norm(n) for n in sys.argv[2].split()} | {"cryo-metric", "cryo-data", "cryo-models", "cryo-infer", "cryo-train"}
for item in json.load(open(sys.argv[1]))["install"]:
    m = item["metadata"]
    if norm(m["name"]) in skip or norm(m["name"]).startswith("nvidia-"): continue
    print(f"{m['name']}=={m['version']}")
PYEOF
rm -f "$report"
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp "${plat_args[@]}" \
  -d "$OUT" -r "$OUT/requirements.txt"
cp benchmarks/wheel_install.sh "$OUT/"  # the wheelhouse installs itself (a Kaggle dataset holds both)
echo "wheelhouse $OUT: $(ls "$OUT"/*.whl | wc -l) wheels for cp$PYVER ($(du -sh "$OUT" | cut -f1)); install with:"
echo "  bash benchmarks/wheel_install.sh $OUT [TARGET]"
