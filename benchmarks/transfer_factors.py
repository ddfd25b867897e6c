"""Which of the `foreign` family's departures costs a model its out-of-family score (CPU).

`foreign` differs from the demo's training family `randomised` in several generator settings at once (pink noise,
membranes and gold beads, thicker graded ice, a wider missing wedge, bright protein only). This benchmark scores
given checkpoints on `foreign` runs and on variants of `foreign` that each take one departure back to `randomised`'s
setting (or drop the membranes and gold beads), with the same seeds and particle layouts, so each row's change from
the first row is what that departure costs. The in-family reference is the pooled score on `randomised` runs, as in
`transfer_eval.py`. Every figure is measured on this project's own simulator families, not on real tomograms.

    python benchmarks/transfer_factors.py --checkpoint NAME=best.pt [--checkpoint ...] [--runs 4]
        [--randomised-runs 3] [--setting 32x96/robust] [--name transfer_factors] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402
from transfer_eval import TILES, eval_specs, score_checkpoint  # noqa: E402


def variants() -> dict:
    "`foreign` and its variants, each with one departure from `randomised` taken back."
    from cryo_data.domains import FAMILIES

    f, r = FAMILIES["foreign"], FAMILIES["randomised"]
    per_particle = tuple(k for k in f.distractor_kinds if k not in ("membrane", "gold"))
    return {
        "foreign (as is)": f,
        "noise: randomised's (CTF-shaped, not pink)": replace(f, noise_models=r.noise_models),
        "no membranes, no gold beads": replace(f, distractor_kinds=per_particle),
        "membranes, no gold beads": replace(f, distractor_kinds=per_particle + ("membrane",)),
        "gold beads, no membranes": replace(f, distractor_kinds=per_particle + ("gold",)),
        "ice: randomised's thickness, density, gradient": replace(
            f, slab_fraction=r.slab_fraction, ice_density=r.ice_density, ice_gradient=r.ice_gradient
        ),
        "missing wedge: randomised's tilt range": replace(f, tilt_max_deg=r.tilt_max_deg),
        "polarity: randomised's (both)": replace(f, polarities=r.polarities),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", action="append", required=True, help="NAME=PATH of a trained model; repeat")
    ap.add_argument("--runs", type=int, default=4, help="runs per foreign variant (seeds 900..)")
    ap.add_argument("--randomised-runs", type=int, default=3, help="in-family runs (seeds 950..)")
    ap.add_argument("--setting", default="32x96/robust", help="TILE/NORMALIZATION, TILE from " + str(list(TILES)))
    ap.add_argument("--name", default="transfer_factors")
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)
    models = dict(c.split("=", 1) for c in args.checkpoint)
    from cryo_data.domains import simulate_families
    from cryo_data.io import open_project
    from cryo_train.demo import DemoConfig

    t0 = time.time()
    rows: dict = {}
    infam: dict = {}
    with tempfile.TemporaryDirectory() as d:
        for i, (vname, fam) in enumerate(variants().items()):
            specs = eval_specs(args.runs, args.randomised_runs if i == 0 else 0, foreign=replace(fam, name="foreign"))
            prj = open_project(simulate_families(Path(d) / f"v{i}", specs, DemoConfig().extent_A, progress=False))
            runs = [s.name for s in specs]
            for name, ckpt in models.items():
                sc = score_checkpoint(prj, ckpt, runs, args.setting)
                if i == 0:
                    infam[name] = (sc["R"], sc["R_per_class"])
                rows[f"{name} | {vname}"] = {
                    "model": name,
                    "variant": vname,
                    "foreign": sc["F"],
                    "per_run": [sc["per_run"][x] for x in runs if x[0] == "F"],
                    "per_class": sc["F_per_class"],
                    "ratio": sc["F"] / infam[name][0] if infam[name][0] > 0 else float("nan"),
                }
                print(name, vname, round(sc["F"], 3), round(rows[f"{name} | {vname}"]["ratio"], 2), flush=True)
    text = header("What costs the out-of-family score: foreign's departures one at a time", "cryo-data", "torch")
    text += (
        f"\nEach variant: {args.runs} runs (seeds 900..) of {DemoConfig().shape} voxels at about 10 A with the demo's test "
        f"layout (12 particles per scored class), the same seeds and layouts in every variant; in-family reference: "
        f"{args.randomised_runs} `randomised` runs (seeds 950..). Prediction: {args.setting}, 1 TTA view, post-processing "
        "`full`; scores pooled over a variant's runs. Checkpoints: "
        + ", ".join(f"`{k}` = {v}" for k, v in models.items())
        + ". Measured on this project's own simulator families only.\n\n"
        "| model | foreign variant | out of family | per run | in family (randomised) | ratio |\n|---|---|---|---|---|---|\n"
    )
    for r in rows.values():
        per = ", ".join(f"{x:.2f}" for x in r["per_run"])
        text += (
            f"| {r['model']} | {r['variant']} | {r['foreign']:.3f} | {per} | {infam[r['model']][0]:.3f} | "
            f"**{r['ratio']:.2f}** |\n"
        )
    classes = list(next(iter(rows.values()))["per_class"])
    text += "\nPer class (tp/fp/fn pooled over the variant's runs):\n\n| model | foreign variant | " + " | ".join(
        classes
    )
    text += " |\n|---|---|" + "---|" * len(classes) + "\n"
    for r in rows.values():
        text += f"| {r['model']} | {r['variant']} | " + " | ".join(
            "/".join(map(str, r["per_class"][c])) for c in classes
        )
        text += " |\n"
    for name, (_score, pc) in infam.items():
        text += (
            f"| {name} | in family (randomised) | " + " | ".join("/".join(map(str, pc[c])) for c in classes) + " |\n"
        )
    text += f"\nTotal {(time.time() - t0) / 60:.1f} min.\n"
    write_result(args.name, text, {"rows": rows, "in_family": infam, "checkpoints": models}, args.results)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
