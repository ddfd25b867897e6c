#!/usr/bin/env bash
# Install a wheelhouse made by benchmarks/gpu_wheels.sh without a network and without touching the image's packages:
# `pip install --no-index --no-deps --target TARGET` of the wheels whose distribution the running Python lacks.
# Prints the PYTHONPATH line to use; when sourced, exports it.
#
# Usage: bash benchmarks/wheel_install.sh [WHEELHOUSE=.whl] [TARGET=/tmp/cryo-site]   (PYTHON=python3 selects the Python)
set -euo pipefail
WHL="${1:-.whl}"
TARGET="${2:-/tmp/cryo-site}"
PY="${PYTHON:-python3}"
[ -d "$WHL" ] || { echo "wheel_install: no wheelhouse $WHL (make one with benchmarks/gpu_wheels.sh)" >&2; exit 2; }
mapfile -t wheels < <("$PY" - "$WHL" <<'PYEOF'
import re, sys
from importlib import metadata
from pathlib import Path
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
have = {norm(d.metadata["Name"]) for d in metadata.distributions() if d.metadata["Name"]}
for w in sorted(Path(sys.argv[1]).glob("*.whl")):
    name = norm(w.name.split("-")[0])
    if name.startswith("cryo-") or name not in have: print(w)  # the image's own torch, numpy, ... stay in use
PYEOF
)
mkdir -p "$TARGET"
"$PY" -m pip install --quiet --no-index --no-deps --disable-pip-version-check --upgrade --target "$TARGET" "${wheels[@]}"
export PYTHONPATH="$TARGET${PYTHONPATH:+:$PYTHONPATH}"
echo "wheel_install: ${#wheels[@]} wheels into $TARGET; export PYTHONPATH=$PYTHONPATH"
