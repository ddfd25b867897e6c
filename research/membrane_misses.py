"""Which `foreign` particles a model misses: those a membrane reaches, or the others (CPU).

Simulates `--runs` `foreign` runs (seeds 900.. or `--first-seed`.., the demo's test layouts, as `transfer_factors.py`),
recording the membranes of each run as they are painted, predicts them with a checkpoint as the demo predicts
(32x96x96 tiles of its normalisation, one view, `--membranes keep` or `suppress`, post-processing `full`), and splits the labelled particles of each scored class by
whether a membrane reaches into their ball (the particle set's radius plus `--margin` Angstrom): found (a pick of the
class within half the radius, as the metric matches), the median of the class's highest probability within half
the radius, and of the particles missed, how many had probability above the class's threshold there (a component
that post-processing placed too far away: its centroid displaced) and how far their nearest pick was. Measured on
this project's own simulator only.

    python research/membrane_misses.py --checkpoint best.pt [--runs 4] [--first-seed 900] [--membranes keep]
        [--margin 20] [--name membrane_misses]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "benchmarks")]
from _common import header, write_result  # noqa: E402
from transfer_eval import TILES, eval_specs  # noqa: E402


def _ball(shape, centre_A, radius_A, vs):
    "Index box and boolean ball (z, y, x) of a sphere, clipped to `shape`."
    import numpy as np

    c = np.array(centre_A[::-1]) / vs
    lo = np.maximum(np.floor(c - radius_A / vs).astype(int), 0)
    hi = np.minimum(np.ceil(c + radius_A / vs).astype(int) + 1, shape)
    g = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    d2 = sum((g[a] * vs[a] - centre_A[::-1][a]) ** 2 for a in range(3))
    return tuple(slice(lo[a], hi[a]) for a in range(3)), d2 < radius_A**2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="a trained model (its normalisation is used for the tiles)")
    ap.add_argument("--runs", type=int, default=4, help="foreign runs (seeds --first-seed..)")
    ap.add_argument("--first-seed", type=int, default=900, help="seed of the first foreign run")
    ap.add_argument("--membranes", default="keep", choices=["keep", "suppress"], help="prediction's window.membranes")
    ap.add_argument(
        "--margin", type=float, default=20.0, help="Angstrom beyond a particle's radius that counts as reached"
    )
    ap.add_argument("--name", default="membrane_misses")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"), help="results folder")
    args = ap.parse_args(argv)
    import cryo_data.simulate as sim
    import numpy as np
    import polars as pl
    from cryo_data.domains import simulate_families
    from cryo_data.io import open_project
    from cryo_infer.postprocess import POST_PRESETS, probs_to_picks
    from cryo_infer.predict import predict_volume
    from cryo_infer.window import WindowConfig
    from cryo_models import load_checkpoint
    from cryo_train.demo import DemoConfig

    t0 = time.time()
    membranes = []
    paint = sim.paint_per_run

    def recording(vol, cfg, rng, slab_A, avoid=None):  # paint as drawn, keep what the membranes added
        before = vol.copy()
        paint(vol, cfg, rng, slab_A, avoid=avoid)
        added = vol - before
        membranes.append((added > 0.05) & (added < 2.0))  # membranes are painted at 0.8, gold beads at 6

    model = load_checkpoint(args.checkpoint)  # loaded once: its weights and the normalisation it was trained with
    norm = model.cryo_info.normalization
    specs = eval_specs(args.runs, 0, None, args.first_seed)
    sim.paint_per_run = recording
    try:
        with tempfile.TemporaryDirectory() as d:
            prj = open_project(simulate_families(Path(d) / "p", specs, DemoConfig().extent_A, progress=False))
            roi, overlap = TILES["32x96"]
            post = POST_PRESETS["full"]
            window = WindowConfig(roi_size=roi, overlap_vox=overlap, normalization=norm, membranes=args.membranes)
            scored = [q.name for q in prj.particles.particles if q.weight > 0]
            rows = []
            for s, mem in zip(specs, membranes):
                t = prj.tomogram(s.name, "denoised", None)
                vs = np.asarray(t.voxel_size_A, np.float64)
                probs = predict_volume(model, t.array, window, ("identity",), progress=False, voxel_size_A=vs)
                picks = probs_to_picks(probs, t.voxel_size_A, post, run=s.name, particles=prj.particles)
                for r in s.layout.iter_rows(named=True):
                    if r["particle_type"] not in scored:
                        continue
                    k, rad = scored.index(r["particle_type"]), prj.particles[r["particle_type"]].radius_A
                    xyz = (r["x"], r["y"], r["z"])
                    box, ball = _ball(mem.shape, xyz, rad + args.margin, vs)
                    hbox, half = _ball(mem.shape, xyz, rad * 0.5, vs)
                    q = picks.filter(pl.col("particle_type") == r["particle_type"])
                    d2 = sum((q[a].to_numpy() - v) ** 2 for a, v in zip("xyz", xyz))
                    p_max = float(probs[k][hbox][half].max()) if half.any() else 0.0
                    found = bool(len(q)) and float(d2.min()) <= (rad * 0.5) ** 2
                    rows.append(
                        {
                            "particle_type": r["particle_type"],
                            "membrane": bool(mem[box][ball].any()),
                            "found": found,
                            "p_max": p_max,
                            "displaced": not found and p_max > post.thresholds[r["particle_type"]],
                            "nearest": float(np.sqrt(d2.min())) / rad if len(q) else float("inf"),
                        }
                    )
    finally:
        sim.paint_per_run = paint
    df = pl.DataFrame(rows)
    tab = (
        df.group_by("particle_type", "membrane")
        .agg(
            pl.len().alias("n"),
            pl.col("found").sum().alias("found"),
            pl.col("p_max").median().alias("p_med"),
            pl.col("displaced").sum().alias("displaced"),
            pl.col("nearest").filter(pl.col("displaced")).median().alias("nearest_med"),
        )
        .sort("particle_type", "membrane")
    )
    text = header("Which out-of-family particles a model misses: membranes", "cryo-data", "torch")
    text += (
        f"\n{args.runs} `foreign` runs (seeds {args.first_seed}.., the demo's test layouts), checkpoint {args.checkpoint} "
        f"(`{norm}` tiles, 32x96x96, one view, membranes `{args.membranes}`, post-processing `full`). A particle is reached by a membrane when a "
        f"membrane voxel lies within its radius + {args.margin:g} A. Found: a pick of its class within half its "
        "radius; p: the median over the particles of the highest probability of its class within half its radius. "
        "Missed, displaced: a miss whose probability within half its radius is above the class's threshold (so a "
        "component covers it) but whose nearest pick lies further (the median distance of that pick, in radii, in "
        "brackets): post-processing misplaced it; the other misses have no component there. "
        "Measured on this project's own simulator only.\n\n"
        "| class | reached by a membrane: found / n | p | missed, displaced | not reached: found / n | p "
        "| missed, displaced |\n|---|---|---|---|---|---|---|\n"
    )
    for name in scored:
        cell = {}
        for m in (True, False):
            x = tab.filter((pl.col("particle_type") == name) & (pl.col("membrane") == m))
            if not len(x):
                cell[m] = "0 / 0 | nan | 0"
                continue
            d, near = int(x["displaced"][0]), x["nearest_med"][0]
            cell[m] = f"{int(x['found'][0])} / {int(x['n'][0])} | {float(x['p_med'][0]):.2f} | {d}" + (
                f" ({near:.1f})" if d else ""
            )
        text += f"| {name} | {cell[True]} | {cell[False]} |\n"
    text += f"\nTotal {(time.time() - t0) / 60:.1f} min.\n"
    write_result(args.name, text, {"rows": tab.to_dicts(), "checkpoint": args.checkpoint}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
