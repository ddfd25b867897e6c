"""Cross-family transfer: train on two families of simulated data, test on the third, every way round (CPU).

Three families of `cryo_data.domains.FAMILIES` that differ in generator settings, not only in seed:
`clean` (analytic shapes, random layouts, high SNR, mild CTF), `templates` (template maps at crops of the real
ground-truth layouts, low SNR, strong CTF) and `foreign` (pseudo-atomic shapes, pink noise, membranes and gold beads,
bright protein, thick graded ice). Each family gets `--train-runs` training runs and `--test-runs` test runs (fixed
counts per class, as the demo's held-out run). For each split the demo's recipe (`cryo_train.demo`: unet_v1 at the
demo's widths, fixed steps) trains on the training runs of two families; the last checkpoint predicts every test run
(`--tta` views); scores are the official metric per class, in family (the two training families' test runs) and out
of family (the third family's test runs), with the ratio. Goal: out-of-family F-beta >= 0.9x in-family.

Needs ../shared/data (templates and real layouts): exits with a message when absent. All numbers are measured on this
project's own simulator families: data made another way (and real tomograms) can differ.

    python research/transfer.py [--steps 240] [--train-runs 3] [--test-runs 2] [--tta 1] [--results DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "benchmarks")]
from _common import header, write_result  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FAMS = ("clean", "templates", "foreign")


def build(work: Path, n_train: int, n_test: int, cfg) -> tuple:
    "One project holding every family's training and test runs."
    import numpy as np
    from cryo_data.domains import FAMILIES, RunSpec, simulate_families
    from cryo_data.io import open_project
    from cryo_data.simulate import SimConfig
    from cryo_metric import CZII_PARTICLES
    from cryo_metric.score import picks_table
    from cryo_train.demo import _fixed_layout

    counts = {q.name: cfg.heldout_per_class if q.weight > 0 else cfg.heldout_per_class // 2 for q in CZII_PARTICLES}
    rng = np.random.default_rng(1234)
    specs, runs = [], {}
    for fi, f in enumerate(FAMS):
        tr = [f"{f}_train_{i}" for i in range(n_train)]
        te = [f"{f}_test_{i}" for i in range(n_test)]
        runs[f] = (tr, te)
        specs += [RunSpec(r, FAMILIES[f], 100 * fi + i) for i, r in enumerate(tr)]
        specs += [
            RunSpec(r, FAMILIES[f], 100 * fi + 50 + i, _fixed_layout(SimConfig(shape=cfg.shape), counts, rng))
            for i, r in enumerate(te)
        ]
    lay = picks_table(SHARED / "czii_train_picks.csv", "layout")
    p = simulate_families(
        work / "project", specs, cfg.extent_A, templates=SHARED / "templates", layouts=lay, progress=True
    )
    return open_project(p), runs, (work / "project" / "families.yaml").read_text()


def per_class(res) -> dict:
    pc = res.per_class
    return {
        r["particle_type"]: (r["tp"], r["fp"], r["fn"], r["fbeta"]) for r in pc.iter_rows(named=True) if r["weight"] > 0
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=240, help="optimisation steps per training (the demo: 480)")
    ap.add_argument("--train-runs", type=int, default=3, help="training runs per family")
    ap.add_argument("--test-runs", type=int, default=2, help="test runs per family (12 particles per scored class)")
    ap.add_argument("--tta", type=int, default=1, choices=(1, 7), help="TTA views at test time (1: identity)")
    ap.add_argument("--splits", nargs="*", default=list(FAMS), help="held-out families to run")
    ap.add_argument(
        "--augment",
        nargs="*",
        default=["off", "on"],
        choices=("off", "on"),
        help="train without and/or with data.domain_augment (polarity flips, gamma, blur, noise)",
    )
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"), help="results folder")
    args = ap.parse_args(argv)
    if not (SHARED / "templates").is_dir() or not (SHARED / "czii_train_picks.csv").is_file():
        print(f"transfer: skipped: {SHARED} (templates and real layouts) is absent")
        return 0
    from cryo_infer.ensemble import EnsembleConfig, MemberSpec
    from cryo_infer.evaluate import evaluate, score_picks
    from cryo_train.config import apply_overrides
    from cryo_train.demo import DemoConfig, demo_train_config, demo_window
    from cryo_train.fit import fit

    cfg = DemoConfig(runs=2 * args.train_runs + 1, steps=args.steps, val_every=10**6)
    t0 = time.time()
    out: dict = {"splits": {}}
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        prj, runs, fam_yaml = build(work, args.train_runs, args.test_runs, cfg)
        out["simulate_s"] = round(time.time() - t0, 1)
        for held in args.splits:
            for aug in args.augment:
                trained_on = [f for f in FAMS if f != held]
                train = [r for f in trained_on for r in runs[f][0]]
                t1 = time.time()
                tc = apply_overrides(demo_train_config(cfg), [f"data.domain_augment={aug == 'on'}"])
                fitted = fit(
                    tc, prj, [runs[trained_on[0]][1][0]], work / f"train_{held}_{aug}", train_runs=train, progress=False
                )
                ens = EnsembleConfig(
                    members=(MemberSpec(str(fitted.out_dir / "best.pt")),),  # validated once, at the last epoch
                    tta=("identity",) if args.tta == 1 else "2nd-place",
                    window=demo_window(cfg),  # tiles and normalisation as the training patches
                    post="full",
                )
                inside = [r for f in trained_on for r in runs[f][1]]
                outside = runs[held][1]
                picks = evaluate(prj, ens, inside + outside).picks  # one prediction per test run
                res_in = score_picks(prj, picks, inside).metric
                res_out = score_picks(prj, picks, outside).metric
                out["splits"][f"{held}/{aug}"] = {
                    "held_out": held,
                    "domain_augment": aug,
                    "trained_on": trained_on,
                    "in_family": res_in.score,
                    "out_of_family": res_out.score,
                    "ratio": res_out.score / res_in.score if res_in.score > 0 else float("nan"),
                    "in_family_per_family": {f: score_picks(prj, picks, runs[f][1]).metric.score for f in trained_on},
                    "per_class_in": per_class(res_in),
                    "per_class_out": per_class(res_out),
                    "minutes": round((time.time() - t1) / 60, 1),
                }
                print(held, aug, json.dumps(out["splits"][f"{held}/{aug}"], default=str)[:300], flush=True)
    out["total_minutes"] = round((time.time() - t0) / 60, 1)
    text = header(
        "Cross-family transfer (train on two simulator families, test on the third)", "cryo-data", "cryo-train", "torch"
    )
    text += (
        f"\nRecipe: the demo's (`cryo_train.demo.demo_train_config`): unet_v1 widths {cfg.channels}, patches {cfg.roi_size}, "
        f"normalisation `{cfg.normalization}`, prediction tiles as the patches (`demo_window`), "
        f"{cfg.epochs * cfg.steps_per_epoch} steps ({cfg.epochs} epochs of {cfg.steps_per_epoch}), batch {cfg.batch_size}; "
        f"the last checkpoint; {args.tta} TTA view(s); post-processing `full`. Runs of {cfg.shape} voxels at 10 A "
        f"(each run's voxel size drawn from its family): {args.train_runs} training and {args.test_runs} test runs per "
        f"family, test runs with {cfg.heldout_per_class} particles per scored class. Every figure is measured on this "
        "project's own simulator families, not on real tomograms.\n\n"
        "| held-out family | trained on | domain augmentation | in-family F-beta | out-of-family F-beta | ratio (goal >= 0.9) | minutes |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    for s in out["splits"].values():
        text += (
            f"| {s['held_out']} | {' + '.join(s['trained_on'])} | {s['domain_augment']} | {s['in_family']:.3f} | {s['out_of_family']:.3f} | "
            f"**{s['ratio']:.2f}** | {s['minutes']} |\n"
        )
    text += "\nPer class (tp / fp / fn, F-beta), in family and out of family:\n\n"
    classes = sorted({c for s in out["splits"].values() for c in s["per_class_out"]})
    text += "| held-out family / augmentation | " + " | ".join(classes) + " |\n|---|" + "---|" * len(classes) + "\n"
    for held, s in out["splits"].items():
        for side in ("in", "out"):
            row = s[f"per_class_{side}"]
            cells = [f"{row[c][0]}/{row[c][1]}/{row[c][2]}, {row[c][3]:.2f}" if c in row else "" for c in classes]
            text += f"| {held} ({side}) | " + " | ".join(cells) + " |\n"
    text += f"\nWhat each run drew (`families.yaml` of the benchmark's project):\n\n```yaml\n{fam_yaml}```\n"
    text += f"\nTotal {out['total_minutes']} min (simulation {out['simulate_s']} s).\n"
    write_result("transfer", text, out, Path(args.results) if args.results else None)
    print(text[:3000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
