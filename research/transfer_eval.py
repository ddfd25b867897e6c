"""Out-of-family score of trained demo models under several inference settings, over several test runs (CPU).

One `foreign` run of 12 particles per class is a noisy judge of a model, so this benchmark simulates
`--foreign-runs` runs from the `foreign` family and `--randomised-runs` from `randomised` (the demo's own family), each
with the demo's fixed test layout of its own seed, and scores every given checkpoint on them under each inference
setting: the prediction tile (the demo's training patch, 32x96x96, or the earlier 64x192x192) and the tile
normalisation (`patch`: z-score; `robust`: clipped at median +- 5 robust sigma first, `cryo_models.normalise`). Scores
are pooled over the runs of a family (the official metric over all of them); the ratio is out-of-family / in-family.
Every figure is measured on this project's own simulator families, not on real tomograms.

    python research/transfer_eval.py --checkpoint NAME=best.pt [--checkpoint ...] [--settings 32x96/robust ...]
        [--foreign-runs 4] [--randomised-runs 3] [--tta 1] [--name transfer_eval] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "benchmarks")]
from _common import header, write_result  # noqa: E402

TILES = {"32x96": ((32, 96, 96), (8, 24, 24)), "64x192": ((64, 192, 192), (16, 32, 32))}
SETTINGS = ("64x192/patch", "32x96/patch", "64x192/robust", "32x96/robust")


def eval_specs(n_foreign: int, n_randomised: int, foreign=None, first_seed: int = 900) -> list:
    """Test runs: F<k> from `foreign` (seed first_seed + k), R<k> from `randomised` (seed first_seed + 50 + k), demo test layouts.

    `foreign`: a Family to draw the F runs from instead of `foreign` (same seeds and layouts)."""
    import polars as pl
    from cryo_data.domains import FAMILIES, RunSpec
    from cryo_train.demo import DemoConfig, demo_layout

    specs = []
    fams = (
        ("F", foreign or FAMILIES["foreign"], first_seed, n_foreign),
        ("R", FAMILIES["randomised"], first_seed + 50, n_randomised),
    )
    for prefix, fam, base, n in fams:
        for k in range(n):
            c = DemoConfig(seed=base + k)
            run = c.foreign if prefix == "F" else c.heldout
            lay = demo_layout(c).filter(pl.col("run") == run).drop("run")
            specs.append(RunSpec(f"{prefix}{k}", fam, base + k, lay))
    return specs


def score_checkpoint(
    prj, ckpt: str, runs: list, setting: str = "32x96/robust", tta: int = 1, membranes: str = "keep", post="full"
) -> dict:
    "Predict `runs` with one checkpoint under one setting; per-run scores and, per family letter (F, R), pooled ones."
    import warnings

    from cryo_infer.ensemble import EnsembleConfig, MemberSpec
    from cryo_infer.evaluate import evaluate, score_picks
    from cryo_infer.window import WindowConfig

    tile, _, norm = setting.partition("/")
    roi, ov = TILES[tile]
    ens = EnsembleConfig(
        members=(MemberSpec(str(Path(ckpt).resolve())),),
        tta=("identity",) if tta == 1 else "2nd-place",
        window=WindowConfig(roi_size=roi, overlap_vox=ov, normalization=norm, membranes=membranes),
        post=post,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a robust/patch mismatch is the point of some settings here
        picks = evaluate(prj, ens, runs).picks
    r = {"per_run": {x: score_picks(prj, picks, [x]).metric.score for x in runs}}
    for letter in sorted({x[0] for x in runs}):
        res = score_picks(prj, picks, [x for x in runs if x[0] == letter]).metric
        pc = res.per_class.filter(res.per_class["weight"] > 0)
        r[letter] = res.score
        r[f"{letter}_per_class"] = {x["particle_type"]: (x["tp"], x["fp"], x["fn"]) for x in pc.iter_rows(named=True)}
    return r


def class_table(title: str, labels: list, per_class: list) -> str:
    "A markdown table: one row per (labels, {class: (tp, fp, fn)}), the label columns first, tp/fp/fn per class."
    classes = list(per_class[0])
    text = f"| {title} | " + " | ".join(classes) + " |\n|" + "---|" * (len(labels[0]) + len(classes)) + "\n"
    for lab, pc in zip(labels, per_class):
        text += "| " + " | ".join(lab) + " | " + " | ".join("/".join(map(str, pc[c])) for c in classes) + " |\n"
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", action="append", required=True, help="NAME=PATH of a trained model; repeat")
    ap.add_argument(
        "--settings", nargs="+", default=list(SETTINGS), help="TILE/NORMALIZATION, TILE from " + str(list(TILES))
    )
    ap.add_argument("--foreign-runs", type=int, default=4)
    ap.add_argument("--randomised-runs", type=int, default=3)
    ap.add_argument("--tta", type=int, choices=(1, 7), default=1, help="TTA views: 1 (identity) or the 2nd place's 7")
    ap.add_argument("--name", default="transfer_eval")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"), help="results folder")
    args = ap.parse_args(argv)
    models = dict(c.split("=", 1) for c in args.checkpoint)
    for s in args.settings:
        tile, _, norm = s.partition("/")
        if tile not in TILES or norm not in ("patch", "robust"):
            ap.error(f"setting {s!r}: want TILE/NORMALIZATION with TILE in {list(TILES)} and patch or robust")
    from cryo_data.domains import simulate_families
    from cryo_data.io import open_project
    from cryo_models import load_checkpoint
    from cryo_train.demo import DemoConfig

    t0 = time.time()
    rows: dict = {}
    with tempfile.TemporaryDirectory() as d:
        specs = eval_specs(args.foreign_runs, args.randomised_runs)
        prj = open_project(simulate_families(Path(d) / "eval", specs, DemoConfig().extent_A, progress=False))
        runs = [s.name for s in specs]
        for name, ckpt in models.items():
            trained = load_checkpoint(ckpt).cryo_info.normalization
            for s in args.settings:
                t = time.time()
                sc = score_checkpoint(prj, ckpt, runs, s, args.tta)
                r = {"trained_with": trained, "per_run": sc["per_run"]}
                for fam, letter in (("foreign", "F"), ("randomised", "R")):
                    r[fam], r[f"{fam}_per_class"] = sc[letter], sc[f"{letter}_per_class"]
                r["ratio"] = r["foreign"] / r["randomised"] if r["randomised"] > 0 else float("nan")
                r["seconds"] = round(time.time() - t, 1)
                rows[f"{name} {s}"] = r
                print(name, s, round(r["foreign"], 3), round(r["randomised"], 3), round(r["ratio"], 2), flush=True)
    text = header(
        "Out-of-family score over several test runs, by inference setting", "cryo-infer", "cryo-train", "torch"
    )
    text += (
        f"\nTest runs: {args.foreign_runs} from `foreign` (seeds 900..) and {args.randomised_runs} from `randomised` (seeds "
        f"950..), {DemoConfig().shape} voxels at about 10 A, the demo's test layout (12 particles per scored class) each; "
        f"{args.tta} TTA view(s), post-processing `full`. Scores pooled over a family's runs. Checkpoints: "
        + ", ".join(f"`{k}` = {v}" for k, v in models.items())
        + ". Measured on this project's own simulator families only.\n\n"
        "| model (trained with) | tiles / normalisation | out of family (foreign) | per run | in family (randomised) "
        "| ratio (goal >= 0.9) |\n|---|---|---|---|---|---|\n"
    )
    for k, r in rows.items():
        name, s = k.rsplit(" ", 1)
        per = ", ".join(f"{r['per_run'][x]:.2f}" for x in r["per_run"] if x[0] == "F")
        text += (
            f"| {name} ({r['trained_with']}) | {s} | {r['foreign']:.3f} | {per} | {r['randomised']:.3f} | "
            f"**{r['ratio']:.2f}** |\n"
        )
    keys = list(rows)
    text += "\nPer class, out of family (tp/fp/fn pooled over the foreign runs):\n\n" + class_table(
        "model | setting", [k.rsplit(" ", 1) for k in keys], [rows[k]["foreign_per_class"] for k in keys]
    )
    text += f"\nTotal {(time.time() - t0) / 60:.1f} min.\n"
    write_result(args.name, text, {"rows": rows, "checkpoints": models, "settings": args.settings}, args.results)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
