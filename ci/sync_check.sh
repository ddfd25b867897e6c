#!/usr/bin/env bash
# Fail when the generated modules of a package are out of sync with its notebooks (or notebooks are unclean).
# Usage: ci/sync_check.sh packages/<pkg>
set -uo pipefail
pkg="$1"
nbdev-clean --fname "$pkg/nbs" || exit 1
nbdev-export --path "$pkg/nbs" || exit 1
changes="$(git status --porcelain -- "$pkg")"
if [ -n "$changes" ]; then
  echo "sync: $pkg: notebooks and library are not in sync (or notebooks are not clean):"
  echo "$changes"
  git --no-pager diff --stat -- "$pkg"
  exit 1
fi
echo "sync: $pkg in sync"
