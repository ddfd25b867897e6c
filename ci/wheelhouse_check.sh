#!/usr/bin/env bash
# Rebuild the GPU machine's wheelhouse (benchmarks/gpu_wheels.sh: CPython 3.12, manylinux x86_64, the image's own
# packages skipped) and check it without a GPU and without Python 3.12:
#   1. its size is within the device tool's 64 MiB;
#   2. it installs offline: `pip install --no-index --no-deps --find-links W --target T --python-version 3.12
#      --implementation cp --only-binary=:all: --platform ...` of every wheel into a fresh --target (pip checks each
#      wheel's tags against CPython 3.12 on manylinux x86_64; the local Python cannot import 3.12 binaries, so nothing
#      is imported);
#   3. it is complete: every requirement of every wheel in it (markers evaluated for CPython 3.12 on Linux x86_64) is
#      met by a wheel in it at a matching version, by a package of the GPU image (image.txt, written by gpu_wheels.sh
#      from its IMAGE_PKGS) or is one of the names left out on purpose (left_out.txt: copick's remote-filesystem, UI
#      and mesh requirements, never imported on our paths), which it lists; --no-deps in step 2 is why this exists.
# Needs a package index (the rebuild downloads); about 2-3 minutes. Exit 0 when all hold, 1 otherwise, naming what.
#
# Usage: bash ci/wheelhouse_check.sh [WHEELHOUSE_DIR]   (default: a fresh temporary folder; PYTHON selects the pip)
#   IMAGE_PKGS, LEAVE_OUT, SKIP, CONSTRAINTS, PYVER, PLATFORMS: passed on to benchmarks/gpu_wheels.sh
set -euo pipefail
cd "$(dirname "$0")/.."
unset PIP_CONSTRAINT  # ci/check.sh pins the CPU torch 2.13.0 for this machine; the GPU machine has its own torch
PY="${PYTHON:-python3}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
W="${1:-$TMP/whl}"
LIMIT_MIB=64
export PYVER="${PYVER:-312}"
PLATFORMS="${PLATFORMS:-manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 linux_x86_64}"
export PLATFORMS
rm -rf "$W"
echo "wheelhouse_check: rebuilding $W (cp$PYVER)"
PYTHON="$PY" bash benchmarks/gpu_wheels.sh "$W" >"$TMP/build.log" 2>&1 || {
  tail -20 "$TMP/build.log" >&2
  echo "wheelhouse_check: FAIL: benchmarks/gpu_wheels.sh could not resolve or download the wheelhouse" >&2
  exit 1
}
bytes=$(du -sb "$W" | cut -f1)
mib=$(( (bytes + 1048575) / 1048576 ))
n=$(ls "$W"/*.whl | wc -l)
echo "wheelhouse_check: $n wheels, $bytes bytes (${mib} MiB; limit ${LIMIT_MIB} MiB)"
if [ "$bytes" -gt $((LIMIT_MIB * 1048576)) ]; then
  du -b "$W"/*.whl | sort -n | tail -5 >&2
  echo "wheelhouse_check: FAIL: $bytes bytes exceed ${LIMIT_MIB} MiB (largest wheels above; add to SKIP or CONSTRAINTS)" >&2
  exit 1
fi
plat_args=(); for p in $PLATFORMS; do plat_args+=(--platform "$p"); done
"$PY" -m pip install --quiet --disable-pip-version-check --no-index --no-deps --find-links "$W" --target "$TMP/site" \
  --python-version "$PYVER" --implementation cp --only-binary=:all: "${plat_args[@]}" "$W"/*.whl || {
  echo "wheelhouse_check: FAIL: the offline install into a fresh --target failed" >&2
  exit 1
}
for pkg in cryo_metric cryo_data cryo_models cryo_infer cryo_train; do
  [ -f "$TMP/site/$pkg/__init__.py" ] || { echo "wheelhouse_check: FAIL: $pkg missing after the install" >&2; exit 1; }
done
"$PY" - "$W" "$PYVER" <<'PYCHECK'
import re
import sys
import zipfile
from pathlib import Path

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.version import Version

norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
wheels = {}
for w in sorted(Path(sys.argv[1]).glob("*.whl")):
    name, version = w.name.split("-")[:2]
    wheels[norm(name)] = (Version(version), w)
image = {norm(n) for n in (Path(sys.argv[1]) / "image.txt").read_text().split()}
left_out = {norm(n) for n in (Path(sys.argv[1]) / "left_out.txt").read_text().split()}
pyver = sys.argv[2]
env = {
    "python_version": f"{pyver[0]}.{pyver[1:]}",
    "python_full_version": f"{pyver[0]}.{pyver[1:]}.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}
missing, skipped = [], set()
for name, (version, w) in wheels.items():
    with zipfile.ZipFile(w) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode("utf-8", "replace").splitlines()
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        dep = norm(req.name)
        if dep in wheels:
            if req.specifier and not req.specifier.contains(wheels[dep][0], prereleases=True):
                missing.append(f"{name} needs {req}, the wheelhouse has {dep} {wheels[dep][0]}")
        elif dep in left_out and dep not in image:
            skipped.add(f"{dep} (for {name})")
        elif dep not in image:
            missing.append(f"{name} needs {req}: neither in the wheelhouse nor in the image")
if missing:
    print("wheelhouse_check: FAIL: incomplete:\n  " + "\n  ".join(sorted(set(missing))), file=sys.stderr)
    raise SystemExit(1)
print(f"wheelhouse_check: complete: every requirement of the {len(wheels)} wheels is in it or in the image")
if skipped:
    print("wheelhouse_check: left out on purpose (never imported on our paths): " + ", ".join(sorted(skipped)))
PYCHECK
echo "wheelhouse_check: OK ($n wheels, ${mib} MiB, offline install into a fresh --target for cp$PYVER)"
