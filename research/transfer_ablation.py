"""Which of the `foreign` family's settings costs the demo's model its out-of-family score? (CPU)

The demo trains on its family (`cellular-wedge` by default) and is tested on a `foreign` run. This benchmark trains
the demo's model (`cryo_train.demo`, its default recipe and seed; or loads `--checkpoint`), then simulates the demo's
out-of-family test layout again, with the same seed, from `foreign` with one or two of its settings set back to what
`randomised` draws: no gold beads, no membranes, neither, CTF-coloured noise instead of pink, dark protein, built-in
shapes, randomised ice and tilt ranges, either of them alone, or the tilt range without gold or membranes; and once
from each of `randomised`, `cellular`, `cellular-wedge` and `clean` themselves (same layout).
Each variant is predicted with one TTA view and scored with the official metric per class; the ratio is variant /
reference (`--reference`, default the demo's family: the model's in-family score). Every number is measured on this
project's own simulator families.

    python research/transfer_ablation.py [--checkpoint best.pt] [--seed 0] [--reference FAMILY] [--roi 64 192 192] [--overlap 16 32 32] [--normalization patch] [--name transfer_ablation] [--results DIR]
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


def demo_family() -> str:
    "The demo's training family (`cryo_train.demo.DemoConfig.family`): the default reference of every ratio."
    from cryo_train.demo import DemoConfig

    return DemoConfig().family


def variants() -> dict:
    "Name -> (family, what differs from `foreign`)."
    from cryo_data.domains import FAMILIES

    f, r = FAMILIES["foreign"], FAMILIES["randomised"]
    ice = {k: getattr(r, k) for k in ("slab_fraction", "ice_density", "ice_gradient")}  # randomised's ice ranges
    tilt = {"tilt_max_deg": r.tilt_max_deg}
    no_objects = {"distractor_kinds": ("rod", "shell")}  # foreign's distractors without gold beads or membranes
    return {
        "foreign": (f, "nothing (the demo's out-of-family family)"),
        "no gold": (replace(f, distractor_kinds=("rod", "shell", "membrane")), "no gold beads"),
        "no membranes": (replace(f, distractor_kinds=("rod", "shell", "gold")), "no membranes"),
        "no gold, no membranes": (replace(f, **no_objects), "neither gold beads nor membranes"),
        "ctf noise": (replace(f, noise_models=("ctf",)), "CTF-coloured noise instead of pink"),
        "dark protein": (replace(f, polarities=(1,)), "protein dark (polarity +1) instead of bright"),
        "built-in shapes": (replace(f, shapes=("built-in",)), "built-in shapes instead of pseudo-atomic blobs"),
        "randomised ice and tilt": (
            replace(f, **ice, **tilt),
            "ice thickness, density, gradient and tilt range drawn as in randomised",
        ),
        "randomised ice": (replace(f, **ice), "ice thickness, density and gradient drawn as in randomised"),
        "randomised tilt": (replace(f, **tilt), "tilt range drawn as in randomised"),
        "randomised tilt, no gold, no membranes": (
            replace(f, **tilt, **no_objects),
            "tilt range drawn as in randomised, and neither gold beads nor membranes",
        ),
        "randomised": (r, "not foreign: `randomised` itself (the reference of models trained on it)"),
        "cellular": (FAMILIES["cellular"], "not foreign: `cellular` (randomised plus membranes and gold in some runs)"),
        "cellular-wedge": (
            FAMILIES["cellular-wedge"],
            "not foreign: `cellular-wedge` (`cellular` with missing wedges from +-35 to +-70 degrees)",
        ),
        "clean": (
            FAMILIES["clean"],
            "not foreign: `clean` (the transfer matrix's family A: built-in shapes, high SNR)",
        ),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None, help="a demo checkpoint (default: train the demo's model here)")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"), help="results folder")
    ap.add_argument(
        "--name", default="transfer_ablation", help="results file name (for a checkpoint of another recipe)"
    )
    ap.add_argument("--seed", type=int, default=None, help="the demo's seed (default: its own); the demo's --seed")
    ap.add_argument(
        "--reference", default=None, help="the variant every ratio divides by (default: the demo's training family)"
    )
    ap.add_argument("--roi", type=int, nargs=3, default=[64, 192, 192], help="prediction tiles (z y x voxels)")
    ap.add_argument("--overlap", type=int, nargs=3, default=[16, 32, 32], help="tile overlap (z y x voxels)")
    ap.add_argument(
        "--normalization",
        default="patch",
        choices=("patch", "robust"),
        help="tile normalisation (the demo's is `local`, not offered here)",
    )
    args = ap.parse_args(argv)
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        ap.error(f"--checkpoint {args.checkpoint}: no such file")
    vs = variants()
    ref_name = args.reference or demo_family()
    if ref_name not in vs:
        ap.error(f"--reference {ref_name!r}: not a variant; choose from {sorted(vs)}")
    import polars as pl
    import yaml
    from cryo_data.domains import RunSpec, simulate_families
    from cryo_data.io import open_project
    from cryo_data.simulate import PER_RUN_KINDS
    from cryo_infer.ensemble import EnsembleConfig, MemberSpec
    from cryo_infer.evaluate import evaluate, score_picks
    from cryo_infer.window import WindowConfig
    from cryo_train.demo import DemoConfig, demo_layout, demo_project, demo_train

    cfg = DemoConfig() if args.seed is None else DemoConfig(seed=args.seed)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        ckpt = args.checkpoint
        if ckpt is None:
            fitted = demo_train(demo_project(work / "demo", cfg), work / "demo", cfg, progress=False)
            ckpt = str(fitted.out_dir / "best.pt")
        train_min = (time.time() - t0) / 60
        lay = demo_layout(cfg).filter(pl.col("run") == cfg.foreign).drop("run")
        names = {k: f"v{i}" for i, k in enumerate(vs)}
        specs = [RunSpec(names[k], fam, cfg.seed + cfg.runs, lay) for k, (fam, _) in vs.items()]
        config = simulate_families(work / "ablation", specs, cfg.extent_A, progress=False)
        prj = open_project(config)
        drawn = yaml.safe_load((Path(config).parent / "families.yaml").read_text())["runs"][names[ref_name]]
        ref_objects = [k for k in drawn["distractor_kinds"] if k in PER_RUN_KINDS]
        ens = EnsembleConfig(
            members=(MemberSpec(ckpt),),
            tta=("identity",),
            window=WindowConfig(
                roi_size=tuple(args.roi),
                overlap_vox=tuple(args.overlap),
                normalization=args.normalization,
            ),
            post="full",
        )
        picks = evaluate(prj, ens, list(names.values())).picks
        rows = {}
        for k, run in names.items():
            res = score_picks(prj, picks, [run]).metric
            pc = res.per_class.filter(pl.col("weight") > 0)
            rows[k] = {
                "score": res.score,
                "per_class": {r["particle_type"]: (r["tp"], r["fp"], r["fn"]) for r in pc.iter_rows(named=True)},
            }
            print(k, round(res.score, 3), flush=True)
    ref = rows[ref_name]["score"]
    classes = list(rows["foreign"]["per_class"])
    text = header(
        "Transfer ablation: what in `foreign` costs the demo's model its score", "cryo-data", "cryo-train", "torch"
    )
    text += (
        f"\nModel: {f'the checkpoint {args.checkpoint}' if args.checkpoint else f'the demo (480 steps on {cfg.family}, seed {cfg.seed}), trained here in {train_min:.1f} min'}. "
        f"Test: the demo's out-of-family layout ({cfg.heldout_per_class} particles per scored class, {cfg.shape} voxels), "
        f"simulated with seed {cfg.seed + cfg.runs} from each variant; one TTA view, tiles {tuple(args.roi)} overlapping by {tuple(args.overlap)}, normalised `{args.normalization}`; post-processing `full`. "
        f"The `{ref_name}` reference run drew {' and '.join(ref_objects) if ref_objects else 'neither membranes nor gold beads'}. "
        "Measured on this project's own simulator families.\n\n"
        f"| variant (foreign with ...) | F-beta | / {ref_name} | "
        + " | ".join(f"{c} tp/fp/fn" for c in classes)
        + " |\n|---|---|---|"
        + "---|" * len(classes)
        + "\n"
    )
    for k, r in rows.items():
        cells = " | ".join("/".join(str(v) for v in r["per_class"][c]) for c in classes)
        ratio = r["score"] / ref if ref > 0 else float("nan")
        text += f"| {k}: {vs[k][1]} | {r['score']:.3f} | {ratio:.2f} | {cells} |\n"
    text += f"\nTotal {(time.time() - t0) / 60:.1f} min.\n"
    write_result(
        args.name,
        text,
        {
            "rows": rows,
            "reference_variant": ref_name,
            "reference": ref,
            "reference_objects": ref_objects,
            "checkpoint": args.checkpoint,
        },
        args.results,
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
