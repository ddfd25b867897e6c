"""How far can thresholds take a model out of family? Per-class F-beta at every threshold, in and out of family (CPU).

A demo model's thresholds are tuned on one in-family run. Out of family its probabilities run lower, so one may ask
whether another threshold rule would close the gap. This benchmark predicts `--runs` runs of the reference family
(default: the demo's training family) and of a held-out variant (default `foreign`; seeds `--first-seed`.., the demo's
test layout, the same seeds and layouts in both, as `transfer_factors.py` simulates them) with one checkpoint (or an
ensemble: several `--checkpoint`s, or the `--ensemble`'s own members) under the demo's prediction setting (one TTA
view by default), then scores the pooled picks at every threshold of the tuning grid (`tune_post`'s curve), class by
class, and compares threshold rules:

- `ensemble`: the thresholds of `--ensemble` (the demo's `ensemble.yaml`: tuned on its validation run);
- `tuned in family`: per class the best threshold on the pooled reference runs (ties: the lowest);
- `lowest within T`: per class the lowest threshold whose reference F-beta is within T of that best;
- `oracle`: per family and class its own best threshold: what no rule chosen without the held-out runs can beat.

Every figure is measured on this project's own simulator families, not on real tomograms.

    python research/transfer_thresholds.py [--checkpoint best.pt ...] --ensemble ensemble.yaml [--runs 8]
        [--first-seed 920] [--variant foreign] [--reference FAMILY] [--tta 1] [--name transfer_thresholds]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "benchmarks")]
from _common import header, write_result  # noqa: E402
from transfer_ablation import demo_family, variants  # noqa: E402
from transfer_eval import eval_specs  # noqa: E402

TOLERANCES = (0.02, 0.05)


def _curves(prj, runs: list, ens, grid) -> dict:
    "{class: {threshold: (tp, fp, fn, fbeta)}} of the pooled runs (`tune_post`'s curve: one prediction per run)."
    from cryo_infer.evaluate import tune_post

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve = tune_post(prj, ens, runs, grid=grid).curve
    out: dict = {}
    for x in curve.iter_rows(named=True):
        out.setdefault(x["particle_type"], {})[x["threshold"]] = (x["tp"], x["fp"], x["fn"], x["fbeta"])
    return out


def _score(curves: dict, thr: dict, weights: dict) -> float:
    "The weighted F-beta of per-class curves at the given thresholds (the metric's weighted mean)."
    return sum(weights[n] * curves[n][thr[n]][3] for n in curves) / sum(weights[n] for n in curves)


def _best(curve: dict, tol: float = 0.0) -> float:
    "The lowest threshold whose F-beta is within `tol` of the curve's best."
    top = max(v[3] for v in curve.values())
    return min(t for t, v in curve.items() if v[3] >= top - tol)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--checkpoint",
        nargs="*",
        default=[],
        help="trained model(s) (the demo's train/best.pt) in place of the ensemble's members (none: its own)",
    )
    ap.add_argument("--ensemble", required=True, help="its ensemble YAML (the demo's ensemble.yaml): window, post")
    ap.add_argument("--runs", type=int, default=8, help="runs per family (seeds --first-seed..)")
    ap.add_argument("--first-seed", type=int, default=920)
    ap.add_argument("--variant", default="foreign", help="the held-out family (a transfer_ablation variant)")
    ap.add_argument("--reference", default=None, help="the model's training family (default: the demo's)")
    ap.add_argument("--tta", type=int, choices=(1, 7), default=1, help="TTA views: 1 (identity) or the ensemble's")
    ap.add_argument("--name", default="transfer_thresholds")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"), help="results folder")
    args = ap.parse_args(argv)
    args.reference = args.reference or demo_family()
    from cryo_data.domains import simulate_families
    from cryo_data.io import open_project
    from cryo_infer.ensemble import MemberSpec, load_ensemble, post_config
    from cryo_infer.evaluate import THRESHOLD_GRID
    from cryo_train.demo import DemoConfig

    vs = variants()
    for v in (args.variant, args.reference):
        if v not in vs:
            ap.error(f"unknown variant {v!r}; known: {sorted(vs)}")
    ens = load_ensemble(args.ensemble)
    members = tuple(MemberSpec(str(Path(c).resolve())) for c in args.checkpoint) or ens.members
    ens = replace(ens, members=members, tta=("identity",) if args.tta == 1 else ens.tta)
    what = ", ".join(f"`{m.checkpoint}`" for m in members)
    t0 = time.time()
    fams = (args.reference, args.variant)
    curves = {}
    with tempfile.TemporaryDirectory() as d:
        for i, v in enumerate(fams):
            fam = vs[v][0]
            specs = eval_specs(args.runs, 0, replace(fam, name=f"{fam.name}-variant"), args.first_seed)
            prj = open_project(simulate_families(Path(d) / f"v{i}", specs, DemoConfig().extent_A, progress=False))
            curves[v] = _curves(prj, [s.name for s in specs], ens, THRESHOLD_GRID)
            weights = {n: prj.particles[n].weight for n in prj.particles.scored}
            print(v, "predicted", f"{(time.time() - t0) / 60:.1f} min", flush=True)
    ref, var = curves[args.reference], curves[args.variant]
    names = list(ref)
    post = post_config(ens)
    rules = {"ensemble": {n: float(post.thresholds[n]) for n in names}}
    rules["tuned in family"] = {n: _best(ref[n]) for n in names}
    for tol in TOLERANCES:
        rules[f"lowest within {tol}"] = {n: _best(ref[n], tol) for n in names}
    rows = []
    for k, thr in rules.items():
        a, b = _score(ref, thr, weights), _score(var, thr, weights)
        rows.append((k, thr, a, b))
    oa = _score(ref, {n: _best(ref[n]) for n in names}, weights)
    ob = _score(var, {n: _best(var[n]) for n in names}, weights)
    rows.append(("oracle (each family its own best)", {n: (_best(ref[n]), _best(var[n])) for n in names}, oa, ob))
    text = header("Thresholds in and out of family: what a threshold rule can do", "cryo-infer", "torch")
    text += (
        f"\n{len(members)} checkpoint(s) ({what}; window and post-processing from `{args.ensemble}`), {args.tta} TTA "
        f"view{'s' if args.tta > 1 else ''}, {args.runs} runs per family (seeds {args.first_seed}.., the demo's test "
        f"layout, 12 particles per scored class); reference `{args.reference}`, held out `{args.variant}`. Scores "
        "pooled over a family's runs. Measured on this project's own simulator families only.\n\n"
        f"| rule | thresholds | {args.reference} | {args.variant} | ratio |\n|---|---|---|---|---|\n"
    )
    for k, thr, a, b in rows:
        t = ", ".join(f"{n}: {v}" for n, v in thr.items())
        text += f"| {k} | {t} | {a:.3f} | {b:.3f} | **{b / a:.3f}** |\n"
    text += f"\nPer-class F-beta at each threshold ({args.reference} / {args.variant}):\n\n"
    text += (
        "| class | " + " | ".join(str(t) for t in THRESHOLD_GRID) + " |\n|---|" + "---|" * len(THRESHOLD_GRID) + "\n"
    )
    for n in names:
        text += f"| {n} | " + " | ".join(f"{ref[n][t][3]:.2f} / {var[n][t][3]:.2f}" for t in THRESHOLD_GRID) + " |\n"
    text += f"\nTotal {(time.time() - t0) / 60:.1f} min.\n"
    data = {
        "curves": {f: {n: {str(t): v for t, v in c.items()} for n, c in cs.items()} for f, cs in curves.items()},
        "rules": [{"rule": k, "thresholds": thr, args.reference: a, args.variant: b} for k, thr, a, b in rows],
    }
    write_result(args.name, text, data, args.results)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
