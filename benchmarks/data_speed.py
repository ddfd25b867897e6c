"""cryo-data at full size: label painting of the 7 real runs' picks into 184x630x630, and the simulator.

Painting needs ../shared/data/czii_train_picks.csv (skipped with a message when absent). The simulator is timed for one
full-size run with one tomogram type and with all four, and the writing of a one-run project.

    python benchmarks/data_speed.py [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "czii_train_picks.csv"
VOXEL = (10.012444196428572, 10.012444196428572, 10.012444537618887)


def main(argv=None) -> int:
    import polars as pl
    from cryo_data.labels import paint_spheres
    from cryo_data.simproject import simulate_project
    from cryo_data.simulate import SimConfig, simulate_run

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)
    md = header("Data speed (cryo-data)", "numpy", "scipy", "cryo-data") + "\n"
    data = {}
    if SHARED.exists():
        picks = pl.read_csv(SHARED)
        md += "## Label painting: real ground-truth picks into 184x630x630 (2nd-place radii, 7 classes)\n\n| run | picks | seconds |\n|---|---|---|\n"
        times = []
        for run in sorted(picks["experiment"].unique()):
            pk = picks.filter(pl.col("experiment") == run)
            t = time.perf_counter()
            paint_spheres(pk, (184, 630, 630), VOXEL)
            dt = time.perf_counter() - t
            times.append(dt)
            md += f"| {run} | {len(pk)} | {dt:.3f} |\n"
        md += f"\nmax {max(times):.3f} s per run (goal: well under 2 s).\n\n"
        data["paint_max_s"] = max(times)
    else:
        md += f"Label painting skipped: {SHARED} is absent (it lives in ../shared beside the checkout).\n\n"
    md += "## Simulator at 184x630x630\n\n| what | seconds |\n|---|---|\n"
    for types in (("denoised",), ("denoised", "wbp", "ctfdeconvolved", "isonetcorrected")):
        t = time.perf_counter()
        vols, pk = simulate_run(SimConfig(tomo_types=types), seed=1)
        dt = time.perf_counter() - t
        md += f"| simulate one run, {len(types)} type(s) ({len(pk)} particles) | {dt:.1f} |\n"
        data[f"simulate_{len(types)}_types_s"] = dt
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        simulate_project(Path(d) / "p", runs=1, progress=False)
        dt = time.perf_counter() - t
    md += f"| simulate and write a one-run copick project (1 type, OME-Zarr pyramid) | {dt:.1f} |\n"
    data["simulate_write_project_s"] = dt
    md += "\nGoal: one full-size tomogram of one type in at most 15 s on 2 cores.\n"
    write_result("data_speed", md, data, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
