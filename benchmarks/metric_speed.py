"""cryo-metric's scorer against a baseline structured like the public Kaggle scorer, same inputs, one run.

Baseline: pandas filtering per experiment and per particle type, one KD-tree ball query per group (the structure
of the competition's published metric). Ours: `cryo_metric.score`. Inputs: N experiments x 6 types x about 300
candidates and 150 references each (defaults: 500 experiments), given as pandas DataFrames to both (and as polars to
ours). Goal: identical scores, median at least 100x faster with pandas input; a profile split says where our time goes.

    python benchmarks/metric_speed.py [--experiments 500] [--repeats 5] [--results DIR]

Needs pandas and pyarrow besides cryo-metric (`hatch run benchmarks:python ...` has them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from scipy.spatial import KDTree

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402

RADII = {
    "apo-ferritin": 60,
    "beta-amylase": 65,
    "beta-galactosidase": 90,
    "ribosome": 150,
    "thyroglobulin": 130,
    "virus-like-particle": 135,
}
WEIGHTS = {
    "apo-ferritin": 1,
    "beta-amylase": 0,
    "beta-galactosidase": 2,
    "ribosome": 1,
    "thyroglobulin": 2,
    "virus-like-particle": 1,
}


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
            sol.append(
                pl.DataFrame(
                    {"experiment": f"TS_{e}", "particle_type": pt, "x": ref[:, 0], "y": ref[:, 1], "z": ref[:, 2]}
                )
            )
            sub.append(
                pl.DataFrame(
                    {"experiment": f"TS_{e}", "particle_type": pt, "x": cand[:, 0], "y": cand[:, 1], "z": cand[:, 2]}
                )
            )
    return pl.concat(sol), pl.concat(sub).with_row_index("id")


def profile_split(sol_pd, sub_pd) -> dict:
    """Seconds of one pandas-input score() call: reading (both tables converted, validated and their particle types
    encoded, side by side in two threads: from the call's start to the end of the later table), matching (the six
    types' grid or KD-tree matching in threads: first start to last end; `matching_cpu` sums the types) and the rest
    (run codes, the duplicate check, grouping by type, counting), from wrappers around the stages."""
    import importlib

    sc = importlib.import_module("cryo_metric.score")  # the module (the package exports a function of that name)
    spans: dict[str, list[tuple[float, float]]] = {"read": [], "match": []}
    orig = {n: getattr(sc, n) for n in ("_prepare", "_grid_hits", "_hits")}

    def wrap(name, stage):
        def f(*a, **k):
            t = time.perf_counter()
            try:
                return orig[name](*a, **k)
            finally:
                spans[stage].append((t, time.perf_counter()))

        return f

    sc._prepare, sc._grid_hits, sc._hits = wrap("_prepare", "read"), wrap("_grid_hits", "match"), wrap("_hits", "match")
    try:
        t = time.perf_counter()
        sc.score(sol_pd, sub_pd)
        total = time.perf_counter() - t
    finally:
        for n, f in orig.items():
            setattr(sc, n, f)
    read = max(e for _, e in spans["read"]) - t
    match = max(e for _, e in spans["match"]) - min(s for s, _ in spans["match"])
    return {
        "total": total,
        "conversion": read,
        "queries": match,
        "queries_cpu": sum(e - s for s, e in spans["match"]),
        "grouping": total - read - match,
    }


def tree_only(sol_pd, sub_pd) -> float:
    "Seconds of one pandas-input score() call with the grid matcher declined, so that every type uses the KD-tree."
    import importlib

    sc = importlib.import_module("cryo_metric.score")
    grid = sc._grid_hits
    sc._grid_hits = lambda *a, **k: None
    try:
        t = time.perf_counter()
        sc.score(sol_pd, sub_pd)
        return time.perf_counter() - t
    finally:
        sc._grid_hits = grid


def main(argv=None) -> int:
    from cryo_metric import score

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiments", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)
    sol, sub = make_inputs(args.experiments)
    sol_pd, sub_pd = sol.to_pandas(), sub.to_pandas()
    t_base, t_pd, t_pl, splits, t_tree = [], [], [], [], []
    score(sol_pd, sub_pd)  # warm-up (imports, first polars calls)
    for _ in range(args.repeats):  # interleaved: load changes on a shared machine hit every scorer alike
        t = time.perf_counter()
        s_base = baseline_score(sol_pd, sub_pd)
        t_base.append(time.perf_counter() - t)
        t = time.perf_counter()
        s_pd = score(sol_pd, sub_pd).score
        t_pd.append(time.perf_counter() - t)
        t = time.perf_counter()
        s_ours = score(sol, sub).score
        t_pl.append(time.perf_counter() - t)
        splits.append(profile_split(sol_pd, sub_pd))
        t_tree.append(tree_only(sol_pd, sub_pd))
    med = lambda v: float(np.median(v))  # noqa: E731
    b, o, op = med(t_base), med(t_pd), med(t_pl)
    same = abs(s_base - s_ours) <= 1e-12 and abs(s_base - s_pd) <= 1e-12
    split = {k: med([x[k] for x in splits]) for k in splits[0]}
    dom = max(("conversion", "grouping", "queries"), key=lambda k: split[k])
    md = header(
        "Metric speed: cryo_metric.score vs a Kaggle-structured scorer",
        "cryo-metric",
        "polars",
        "pandas",
        "pyarrow",
        "scipy",
    )
    md += (
        f"\nInputs: {args.experiments} experiments x 6 types; {len(sol):,} reference and {len(sub):,} candidate points "
        f"(about 150 and 300 per experiment and type). {args.repeats} interleaved repeats in one process, same inputs; "
        "medians (best in brackets).\n\n"
        "| scorer | input | seconds, median (best) | ratio of medians (of bests) | score |\n|---|---|---|---|---|\n"
        f"| baseline (pandas per experiment and type + KD-tree ball queries) | pandas | {b:.3f} ({min(t_base):.3f}) | 1 | {s_base:.15f} |\n"
        f"| cryo_metric.score | pandas | {o:.3f} ({min(t_pd):.3f}) | **{b / o:.1f}x** ({min(t_base) / min(t_pd):.1f}x) | {s_pd:.15f} |\n"
        f"| cryo_metric.score, KD-tree matching (grid declined) | pandas | {med(t_tree):.3f} ({min(t_tree):.3f}) | {b / med(t_tree):.1f}x ({min(t_base) / min(t_tree):.1f}x) | |\n"
        f"| cryo_metric.score | polars | {op:.3f} ({min(t_pl):.3f}) | {b / op:.1f}x ({min(t_base) / min(t_pl):.1f}x) | {s_ours:.15f} |\n\n"
        f"Goal: median >= 100x with pandas input. Scores identical within 1e-12: **{same}** "
        f"(difference {max(abs(s_base - s_ours), abs(s_base - s_pd)):.1e}).\n\n"
        f"Where a pandas-input call spends its time (medians over the repeats, one instrumented call each): reading both "
        f"tables (conversion, validation, particle-type codes; the two tables in two threads) {split['conversion']:.3f} s, "
        f"run codes, duplicate check, grouping and counting {split['grouping']:.3f} s, matching (grid of cells, 6 types "
        f"in {min(6, os.cpu_count() or 1)} threads) {split['queries']:.3f} s wall ({split['queries_cpu']:.3f} s summed "
        f"over the types), of {split['total']:.3f} s: **{ {'conversion': 'reading', 'grouping': 'grouping', 'queries': 'matching'}[dom] } "
        f"dominates ({100 * split[dom] / split['total']:.0f} %)**. The goal (a median of 100x) needs the whole call under "
        f"{b / 100:.3f} s.\n"
    )
    write_result(
        "metric_speed",
        md,
        {
            "baseline_s": t_base,
            "ours_pandas_s": t_pd,
            "ours_polars_s": t_pl,
            "ours_pandas_tree_s": t_tree,
            "ratio_median_pandas": b / o,
            "ratio_best_pandas": min(t_base) / min(t_pd),
            "ratio_median_polars": b / op,
            "split_pandas_s": split,
            "dominant": dom,
            "baseline_score": s_base,
            "our_score": s_ours,
            "identical": same,
            "experiments": args.experiments,
        },
        args.results,
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
