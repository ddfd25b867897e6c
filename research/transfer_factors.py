"""`transfer_ablation.py` over several test runs and checkpoints: what in `foreign` costs a model its score (CPU).

`foreign` differs from the `randomised` family in several generator settings at once (pink noise, membranes and gold
beads, thicker graded ice, a wider missing wedge, bright protein only, pseudo-atomic shapes).
`transfer_ablation.py` takes them back one at a time on one run; a run of 12 particles per class is a noisy judge, so
this benchmark simulates `--runs` runs per variant (seeds 900.., or from `--first-seed`; the demo's test layout of each
seed, the same seeds and layouts in every variant, `--reference` as the in-family one) and scores given
checkpoints on them, pooled over the runs, with the demo's prediction setting (`--membranes`: with the tomograms as
they are, `keep`, or with membranes painted over first, `suppress`; repeat it to score both; `--post`: the `full`
preset or the thresholds an ensemble YAML holds, such as the demo's tuned ones). Every figure is measured on this project's own simulator
families, not on real tomograms.

    python research/transfer_factors.py --checkpoint NAME=best.pt [--checkpoint ...] [--runs 4]
        [--first-seed 900] [--variant NAME ...] [--reference FAMILY] [--setting 32x96/robust]
        [--membranes keep --membranes suppress] [--post full --post demo_out/ensemble.yaml]
        [--tta 1] [--name transfer_factors] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "benchmarks")]
from _common import header, write_result  # noqa: E402
from transfer_ablation import demo_family, variants  # noqa: E402
from transfer_eval import TILES, class_table, eval_specs, score_checkpoint  # noqa: E402


def _post(spec: str):
    "A post-processing preset name, or the post section of an ensemble YAML (a file that exists)."
    if Path(spec).is_file():
        from cryo_infer.ensemble import load_ensemble, post_config

        return post_config(load_ensemble(spec))
    from cryo_infer.postprocess import POST_PRESETS

    if spec not in POST_PRESETS:
        raise SystemExit(f"--post {spec!r}: neither an ensemble YAML nor a preset of {sorted(POST_PRESETS)}")
    return spec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", action="append", required=True, help="NAME=PATH of a trained model; repeat")
    ap.add_argument("--runs", type=int, default=4, help="runs per foreign variant (seeds --first-seed..)")
    ap.add_argument("--first-seed", type=int, default=900, help="seed of the first run of every variant")
    ap.add_argument("--setting", default="32x96/robust", help="TILE/NORMALIZATION, TILE from " + str(list(TILES)))
    ap.add_argument("--variant", action="append", default=None, help="only these variants (repeat; default: all)")
    ap.add_argument(
        "--reference",
        default=None,
        help="the variant every ratio divides by: the checkpoints' training family (default: the demo's)",
    )
    ap.add_argument(
        "--membranes",
        action="append",
        default=None,
        choices=["keep", "suppress"],
        help="prediction's window.membranes; repeat to score each checkpoint both ways (default: keep)",
    )
    ap.add_argument(
        "--post",
        action="append",
        default=None,
        help="post-processing: a preset name or an ensemble YAML whose post section is used (the demo's "
        "demo_out/ensemble.yaml holds its tuned thresholds); repeat to score each (default: full)",
    )
    ap.add_argument(
        "--tta", type=int, choices=(1, 7), default=1, help="TTA views: 1 (identity) or the 2nd place's 7 (the demo's)"
    )
    ap.add_argument("--name", default="transfer_factors")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"), help="results folder")
    args = ap.parse_args(argv)
    args.reference = args.reference or demo_family()
    bad = [c for c in args.checkpoint if "=" not in c or not c.split("=", 1)[0]]
    if bad:
        ap.error(f"--checkpoint takes NAME=PATH, got {bad}")
    ckpts = dict(c.split("=", 1) for c in args.checkpoint)
    missing = [p for p in ckpts.values() if not Path(p).is_file()]
    if missing:
        ap.error(f"checkpoint file(s) not found: {missing}")
    modes = args.membranes or ["keep"]
    posts = {p: _post(p) for p in (args.post or ["full"])}

    def label(k, m, p):
        return ", ".join(
            [k] + ([f"membranes {m}"] if len(modes) > 1 else []) + ([f"post {Path(p).name}"] if len(posts) > 1 else [])
        )

    models = {label(k, m, p): (v, m, p) for k, v in ckpts.items() for m in modes for p in posts}
    from cryo_data.domains import simulate_families
    from cryo_data.io import open_project
    from cryo_train.demo import DemoConfig

    t0 = time.time()
    rows: dict = {}
    vs = variants()
    unknown = sorted({args.reference, *(args.variant or ())} - set(vs))
    if unknown:
        ap.error(f"unknown variant(s) {unknown}; known: {sorted(vs)}")
    keep = [v for v in vs if v != args.reference and (args.variant is None or v in args.variant)]
    vs = {args.reference: vs[args.reference], **{v: vs[v] for v in keep}}  # the reference first: ratios divide by it
    with tempfile.TemporaryDirectory() as d:
        for i, (vname, (fam, what)) in enumerate(vs.items()):
            specs = eval_specs(args.runs, 0, replace(fam, name=f"{fam.name}-variant"), args.first_seed)
            prj = open_project(simulate_families(Path(d) / f"v{i}", specs, DemoConfig().extent_A, progress=False))
            runs = [s.name for s in specs]
            for name, (ckpt, mode, p) in models.items():
                sc = score_checkpoint(prj, ckpt, runs, args.setting, args.tta, membranes=mode, post=posts[p])
                ref = rows[f"{name} | {args.reference}"]["score"] if i else sc["F"]
                rows[f"{name} | {vname}"] = {
                    "model": name,
                    "variant": f"{vname}: {what}",
                    "score": sc["F"],
                    "per_run": [sc["per_run"][x] for x in runs],
                    "per_class": sc["F_per_class"],
                    "ratio": sc["F"] / ref if ref > 0 else float("nan"),
                }
                print(name, vname, round(sc["F"], 3), round(rows[f"{name} | {vname}"]["ratio"], 2), flush=True)
    text = header(
        "Transfer ablation over several runs: what in `foreign` costs a model its score", "cryo-data", "torch"
    )
    text += (
        f"\nEach variant: {args.runs} runs (seeds {args.first_seed}..) of {DemoConfig().shape} voxels at about 10 A with the demo's test "
        f"layout (12 particles per scored class), the same seeds and layouts in every variant; the ratio divides by the "
        f"`{args.reference}` variant (in family). Prediction: {args.setting}, {args.tta} TTA view{'s' if args.tta > 1 else ''}, membranes "
        f"{' and '.join(f'`{m}`' for m in modes)}, post-processing "
        + " and ".join(
            f"`{p}`" + ("" if isinstance(v, str) else f" (thresholds {dict(v.thresholds)})") for p, v in posts.items()
        )
        + "; scores pooled over a variant's runs. Checkpoints: "
        + ", ".join(f"`{k}` = {v}" for k, v in ckpts.items())
        + ". Measured on this project's own simulator families only.\n\n"
        f"| model | variant (foreign with ...) | F-beta | per run | / {args.reference} |\n|---|---|---|---|---|\n"
    )
    for r in rows.values():
        per = ", ".join(f"{x:.2f}" for x in r["per_run"])
        text += f"| {r['model']} | {r['variant']} | {r['score']:.3f} | {per} | **{r['ratio']:.2f}** |\n"
    text += "\nPer class (tp/fp/fn pooled over the variant's runs):\n\n" + class_table(
        "model | variant", [(r["model"], r["variant"]) for r in rows.values()], [r["per_class"] for r in rows.values()]
    )
    text += f"\nTotal {(time.time() - t0) / 60:.1f} min.\n"
    write_result(
        args.name,
        text,
        {"rows": rows, "checkpoints": ckpts, "setting": args.setting, "membranes": modes, "post": list(posts)},
        args.results,
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
