#!/usr/bin/env bash
# Tiny deterministic train -> infer -> score, twice, in the all-packages environment (see ci/repro.py).
set -uo pipefail
cd "$(dirname "$0")/.."
hatch run python ci/repro.py "$@"
