#!/usr/bin/env bash
# The project's test command: every package's pytest suite (isolated env, no nbdev), its notebook tests, the
# notebooks <-> modules sync check, and the end-to-end notebooks. Failures are collected across packages: one
# failing package does not hide the others. A step that ran zero tests counts as a failure.
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

for pkg in "${PKGS[@]}"; do
  step "pytest:$pkg" pytest hatch run "test.$pkg:py" -q -p no:cacheprovider
  step "nbdev-test:$pkg" nbdev hatch run "nb.$pkg:test"
  step "sync:$pkg" exit hatch run "nb.$pkg:sync"
done
if [ $# -eq 0 ] && ls notebooks/*.ipynb >/dev/null 2>&1; then
  step "notebooks" nbdev hatch run notebooks:run
fi
if [ $# -eq 0 ] && [ -f ci/repro.sh ]; then
  step "reproducibility" exit bash ci/repro.sh
fi

echo
[ $failed -gt 0 ] && printf 'failed step: %s\n' "${failures[@]}"
echo "ci: $passed passed, $failed failed"
[ $failed -eq 0 ]
