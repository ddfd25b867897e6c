"""`hatch run benchmarks:all`: every package's user-facing benchmark, results in benchmarks/results/*.md.

    python benchmarks/run_all.py [--quick] [--skip NAME ...]

--quick uses smaller inputs for the long CPU benchmarks (states the sizes in each result file). The GPU figures come
from `bash benchmarks/gpu_check.sh` on a GPU machine; the research diagnostics (domain transfer, membranes, host<->GPU
bytes) live in research/ and are not run here.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller inputs for the long CPU benchmarks")
    ap.add_argument("--skip", nargs="*", default=[], help="benchmark (or result) names to leave out")
    args = ap.parse_args(argv)
    jobs = [
        ("metric_speed", ["--experiments", "100"] if args.quick else []),
        ("data_speed", []),
        ("models_speed", []),
        ("infer_speed", ["--shape", "96", "320", "320", "--roi", "64", "192", "192"] if args.quick else []),
        ("infer_memory", ["--shape", "96", "320", "320"] if args.quick else []),
        ("postprocess_speed", ["--shape", "96", "320", "320"] if args.quick else []),
        ("bf16_cpu", ["--steps", "24", "--repeats", "1"] if args.quick else []),
        ("train_cpu", ["--minutes", "3"] if args.quick else []),
        ("lb_table", []),
    ]
    failed = []
    for name, extra in jobs:
        if name in args.skip or ("--name" in extra and extra[extra.index("--name") + 1] in args.skip):
            continue
        print(f"=== {name}", flush=True)
        r = subprocess.run([sys.executable, str(HERE / f"{name}.py")] + extra)
        if r.returncode != 0:
            failed.append(name)
    print("failed:", failed or "none")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
