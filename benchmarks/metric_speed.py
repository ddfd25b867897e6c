"""cryo-metric's scorer against a baseline structured like the public Kaggle scorer, same inputs, one run.

Baseline: pandas filtering per experiment and per particle type, one KD-tree ball query per group (the structure
of the competition's published metric). Ours: `cryo_metric.score`. Inputs: N experiments x 6 types x about 300
candidates and 150 references each (defaults: 500 experiments). Goal: identical scores, at least 20x faster.

    python benchmarks/metric_speed.py [--experiments 500] [--repeats 3] [--results DIR]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from scipy.spatial import KDTree

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402

RADII = {"apo-ferritin": 60, "beta-amylase": 65, "beta-galactosidase": 90, "ribosome": 150, "thyroglobulin": 130,
         "virus-like-particle": 135}
WEIGHTS = {"apo-ferritin": 1, "beta-amylase": 0, "beta-galactosidase": 2, "ribosome": 1, "thyroglobulin": 2,
           "virus-like-particle": 1}


def baseline_compute_metrics(reference_points, reference_radius, candidate_points):
    num_reference, num_candidate = len(reference_points), len(candidate_points)
    if num_reference == 0:
        return 0, num_candidate, 0
    if num_candidate == 0:
        return 0, 0, num_reference
    ref_tree = KDTree(reference_points)
    cand_tree = KDTree(candidate_points)
    raw_matches = cand_tree.query_ball_tree(ref_tree, r=reference_radius)
    matched = set()
    for m in raw_matches:
        matched.update(m)
    tp = len(matched)
    return tp, num_candidate - tp, num_reference - tp


def baseline_score(solution: pd.DataFrame, submission: pd.DataFrame, beta=4, distance_multiplier=0.5) -> float:
    radii = {k: v * distance_multiplier for k, v in RADII.items()}
    solution_experiments = set(solution["experiment"].unique())
    submission = submission.loc[submission["experiment"].isin(solution_experiments)]
    results = {pt: {"tp": 0, "fp": 0, "fn": 0} for pt in RADII}
    for experiment in solution["experiment"].unique():
        sel_sol = solution["experiment"] == experiment
        sel_sub = submission["experiment"] == experiment
        for pt in solution["particle_type"].unique():
            ref = solution.loc[sel_sol & (solution["particle_type"] == pt), ["x", "y", "z"]].values
            cand = submission.loc[sel_sub & (submission["particle_type"] == pt), ["x", "y", "z"]].values
            tp, fp, fn = baseline_compute_metrics(ref, radii[pt], cand)
            results[pt]["tp"] += tp
            results[pt]["fp"] += fp
            results[pt]["fn"] += fn
    total = 0.0
    for pt, r in results.items():
        tp, fp, fn = r["tp"], r["fp"], r["fn"]
        p = tp / (tp + fp) if tp + fp > 0 else 0
        rc = tp / (tp + fn) if tp + fn > 0 else 0
        f = (1 + beta**2) * (p * rc) / (beta**2 * p + rc) if (p + rc) > 0 else 0.0
        total += f * WEIGHTS[pt]
    return total / sum(WEIGHTS.values())


def make_inputs(n_exp: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    sol, sub = [], []
    for e in range(n_exp):
        for pt in RADII:
            n_ref = rng.poisson(150)
            ref = rng.uniform([0, 0, 0], [6300, 6300, 1840], (n_ref, 3))
            hits = ref[rng.random(n_ref) < 0.8]
            hits = hits + rng.normal(0, RADII[pt] * 0.25, hits.shape)
            noise = rng.uniform([0, 0, 0], [6300, 6300, 1840], (max(0, rng.poisson(300) - len(hits)), 3))
            cand = np.vstack([hits, noise])
            sol.append(pl.DataFrame({"experiment": f"TS_{e}", "particle_type": pt, "x": ref[:, 0], "y": ref[:, 1], "z": ref[:, 2]}))
            sub.append(pl.DataFrame({"experiment": f"TS_{e}", "particle_type": pt, "x": cand[:, 0], "y": cand[:, 1], "z": cand[:, 2]}))
    return pl.concat(sol), pl.concat(sub).with_row_index("id")


def main(argv=None) -> int:
    from cryo_metric import score
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiments", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)
    sol, sub = make_inputs(args.experiments)
    sol_pd, sub_pd = sol.to_pandas(), sub.to_pandas()
    t_base, t_ours = [], []
    for _ in range(args.repeats):
        t = time.perf_counter(); s_base = baseline_score(sol_pd, sub_pd); t_base.append(time.perf_counter() - t)
        t = time.perf_counter(); s_ours = score(sol, sub).score; t_ours.append(time.perf_counter() - t)
    b, o = min(t_base), min(t_ours)
    same = abs(s_base - s_ours) <= 1e-12
    md = header("Metric speed: cryo_metric.score vs a Kaggle-structured scorer", "cryo-metric", "polars", "pandas", "scipy")
    md += (f"\nInputs: {args.experiments} experiments x 6 types; {len(sol):,} reference and {len(sub):,} candidate points "
           f"(about 150 and 300 per experiment and type). Best of {args.repeats}, same process, same inputs.\n\n"
           "| scorer | seconds | score |\n|---|---|---|\n"
           f"| baseline (pandas per experiment and type + KD-tree ball queries) | {b:.3f} | {s_base:.15f} |\n"
           f"| cryo_metric.score | {o:.3f} | {s_ours:.15f} |\n\n"
           f"**Speed-up: {b / o:.1f}x** (goal >= 20x); scores identical within 1e-12: **{same}** "
           f"(difference {abs(s_base - s_ours):.1e}).\n")
    write_result("metric_speed", md, {"baseline_s": b, "ours_s": o, "ratio": b / o, "baseline_score": s_base,
                                      "our_score": s_ours, "identical": same, "experiments": args.experiments})
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
