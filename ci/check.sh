#!/usr/bin/env bash
# The project's test command: every package's pytest suite, its notebook tests, the notebooks <-> modules sync check,
# the end-to-end notebooks, the repository checks, ruff, the docs site and the reproducibility check. Failures are collected across packages: one failing package does not hide the others.
# A step that ran zero tests counts as a failure.
#
# Isolation of the pytest step: the five wheels are built once into a wheelhouse (ci/wheels.sh), then each package is
# installed ALONE from it (not editable) into a fresh virtual environment, with its test extras, pytest and hypothesis,
# and its tests run from a directory where the source tree is not importable: what `pip install --find-links dist
# <pkg>` gives a user is what is tested.
#
# Usage: bash ci/check.sh [PKG ...]      (default: all five packages)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PKGS=("$@")
[ ${#PKGS[@]} -eq 0 ] && PKGS=(cryo-metric cryo-data cryo-models cryo-infer cryo-train)

# hatch itself: use the one on PATH, else bootstrap a private copy (pinned).
if ! command -v hatch >/dev/null 2>&1; then
  if [ ! -x "$ROOT/.tools/bin/hatch" ]; then
    python3 -m venv "$ROOT/.tools" && "$ROOT/.tools/bin/pip" install -q "hatch==1.18.2" || { echo "cannot install hatch"; exit 1; }
  fi
  export PATH="$ROOT/.tools/bin:$PATH"
fi
export PIP_CONSTRAINT="$ROOT/ci/constraints.txt"
export MPLBACKEND=Agg
export PIP_NO_CACHE_DIR=1   # no second copy of every wheel (torch included) in ~/.cache/pip
LOGS="$ROOT/ci/logs"; mkdir -p "$LOGS"

# hatch installs sibling packages (through [envs.default.sources]) non-editable and does not reinstall them when
# their code changes under the same version: start from fresh environments so every package is tested against the
# siblings of this checkout. CRYO_CI_KEEP_ENVS=1 skips this for quick local iterations.
if [ "${CRYO_CI_KEEP_ENVS:-0}" != "1" ]; then
  hatch env prune >/dev/null 2>&1 || true
fi
passed=0; failed=0; failures=()

step() {  # step NAME CHECK COMMAND...: run, log, and judge a step (CHECK: pytest | nbdev | exit)
  local name="$1" check="$2"; shift 2
  local log="$LOGS/${name//[^A-Za-z0-9_.-]/_}.log"
  local t0=$SECONDS
  echo "::: $name"
  "$@" >"$log" 2>&1; local rc=$?
  local ok=1
  if [ $rc -ne 0 ]; then ok=0; fi
  case "$check" in
    pytest) grep -Eq "[0-9]+ passed" "$log" || { ok=0; echo "    ran zero tests"; } ;;
    nbdev)  if grep -q "No files were eligible" "$log"; then ok=0; echo "    no notebook was tested"; fi
            grep -q "^Success" "$log" || ok=0 ;;
  esac
  tail -n 3 "$log" | sed 's/^/    /'
  if [ $ok -eq 1 ]; then passed=$((passed+1)); echo "    ok ($((SECONDS-t0)) s)";
  else failed=$((failed+1)); failures+=("$name"); echo "    FAILED ($((SECONDS-t0)) s), log: $log"; tail -n 60 "$log"; fi
}

# Disk: every environment that holds torch costs 1-2 GB, and a CI machine may have only a few GB free. Each package's
# two environments are removed once its steps are done; the notebooks, repository and reproducibility steps share the
# default environment; lint and docs are detached (no torch). Peak use is printed after each package.
disk() { echo "    disk: $(du -sh "$ROOT/ci" "${HATCH_DATA_DIR:-$HOME/.local/share/hatch}" 2>/dev/null | awk '{print $2": "$1}' | tr '\n' ' ')free $(df -h "$ROOT" | awk 'NR==2{print $4}')"; }
disk

# the wheelhouse and one fresh environment per package (CRYO_CI_VENVS: where they go, default ci/venvs)
WHEELS="$ROOT/ci/wheelhouse"; VENVS="${CRYO_CI_VENVS:-$ROOT/ci/venvs}"
extras() {  # test-only requirements of a package (its own tests exercise these optional paths)
  case "$1" in
    cryo-metric) echo "cryo-metric[copick] pandas>=2" ;;
    cryo-models) echo "cryo-models[onnx]" ;;
    cryo-data) echo "cryo-data[star]" ;;
    *) echo "$1" ;;
  esac
}
isolated_pytest() {  # isolated_pytest PKG: fresh venv, install PKG alone from the wheelhouse, run its tests elsewhere
  local pkg="$1" venv="$VENVS/$1" py="${PYTHON:-python3}"
  rm -rf "$venv" && "$py" -m venv "$venv" || return 1
  # shellcheck disable=SC2046
  "$venv/bin/pip" install --quiet --no-compile --find-links "$WHEELS" $(extras "$pkg") "pytest>=8" "hypothesis>=6" || return 1
  "$venv/bin/pip" list 2>/dev/null | grep -i '^cryo' | tr -s ' ' | sed 's/^/installed: /'
  local run; run="$(mktemp -d)"
  (cd "$run" && "$venv/bin/python" -m pytest "$ROOT/packages/$pkg/tests" -q -p no:cacheprovider)
}
step "wheels" exit bash ci/wheels.sh "$WHEELS"
for pkg in "${PKGS[@]}"; do
  step "pytest:$pkg" pytest isolated_pytest "$pkg"
  [ "${CRYO_CI_KEEP_ENVS:-0}" = "1" ] || rm -rf "${VENVS:?}/$pkg"
  step "nbdev-test:$pkg" nbdev hatch run "nb.$pkg:test"
  step "sync:$pkg" exit hatch run "nb.$pkg:sync"
  [ "${CRYO_CI_KEEP_ENVS:-0}" = "1" ] || hatch env remove "nb.$pkg" >/dev/null 2>&1
  disk
done
if [ $# -eq 0 ] && ls notebooks/*.ipynb >/dev/null 2>&1; then
  step "notebooks" nbdev hatch run notebooks
fi
if [ $# -eq 0 ]; then
  step "repository" pytest hatch run pytest tests -q -p no:cacheprovider   # the one-vocabulary rule across packages
  step "lint" exit hatch run lint:check                                    # ruff lint + format check
  step "docs" exit hatch run docs:build                                    # the docs site from the notebooks (strict)
  step "gpu-wheelhouse" exit bash ci/wheelhouse_check.sh                    # the GPU machine's wheelhouse: <= 64 MiB, installs offline for cp312
fi
if [ $# -eq 0 ] && [ -f ci/repro.sh ]; then
  step "reproducibility" exit bash ci/repro.sh
fi

echo
[ $failed -gt 0 ] && printf 'failed step: %s\n' "${failures[@]}"
echo "ci: $passed passed, $failed failed"
[ $failed -eq 0 ]
