"""How many picks the seed's float16 tomogram (seed_parity: round to half precision, then normalise each patch) changes,
on a simulated run predicted by a model trained here for a minute. CPU; the rounding is the only difference.

    python benchmarks/fp16_input.py [--results DIR] [--epochs 6]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402


def compare(a, b, voxel: float) -> dict:
    "Picks of `a` with an exact twin in `b` (same class, same coordinates), with one within a voxel, and unmatched."
    import numpy as np
    same = near = 0
    for name in sorted(set(a["particle_type"]) | set(b["particle_type"])):
        pa = a.filter(a["particle_type"] == name).select("x", "y", "z").to_numpy()
        pb = b.filter(b["particle_type"] == name).select("x", "y", "z").to_numpy()
        if len(pa) == 0 or len(pb) == 0: continue
        d = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1)).min(1)
        same += int((d < 1e-6).sum()); near += int(((d >= 1e-6) & (d < voxel)).sum())
    return {"n_a": len(a), "n_b": len(b), "identical": same, "moved_under_1_voxel": near, "other": len(a) - same - near}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", default=None); ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--shape", type=int, nargs=3, default=[64, 192, 192])
    args = ap.parse_args(argv)
    from cryo_data.io import open_project
    from cryo_data.simproject import simulate_project
    from cryo_infer.evaluate import predict_picks, score_picks
    from cryo_infer.window import WindowConfig
    from cryo_models import load_checkpoint
    from cryo_train.config import TrainConfig, apply_overrides
    from cryo_train.fit import fit
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        prj = open_project(simulate_project(d / "p", runs=3, shape=args.shape, seed=50, crowding=3.0, progress=False))
        cfg = apply_overrides(TrainConfig(), ["data.roi_size=[32,64,64]", "data.tomo_types=[denoised]", "data.samples_per_volume=8",
                                              "val.post=full", "val.every_n_epochs=1000", f"trainer.max_epochs={args.epochs}"])
        fit(cfg, prj, ["TS_52"], d / "fit", progress=False)
        model = load_checkpoint(d / "fit" / "checkpoints" / "last.ckpt")
        win = WindowConfig(roi_size=(64, 128, 128))
        rows = {}
        for label, w in (("float32 tomogram", win), ("float16 tomogram (seed_parity)", replace(win, input_dtype="float16"))):
            picks = predict_picks(prj, [model], ["TS_52"], w, "seed", "seed_parity")
            rows[label] = (picks, score_picks(prj, picks, ["TS_52"]).score)
        t = prj.tomogram("TS_52")
        vol = t.numpy()
        (a, sa), (b, sb) = rows.values()
        c = compare(a, b, float(t.voxel_size_A[0]))
    md = header("float16 tomogram before normalisation (seed_parity): picks changed", "cryo-infer", "torch")
    md += (f"\nOne simulated run {tuple(args.shape)} (value range {vol.min():.3g} .. {vol.max():.3g}), a unet_v1 trained here for "
           f"{args.epochs} epochs, 7 TTA, tiles 64x128x128, post-processing seed_parity.\n\n"
           "| input | picks | F-beta |\n|---|---|---|\n"
           + "".join(f"| {k} | {len(p)} | {s:.4f} |\n" for k, (p, s) in rows.items())
           + f"\nOf the {c['n_a']} float32 picks: {c['identical']} identical in the float16 run, {c['moved_under_1_voxel']} moved by "
             f"less than one voxel, {c['other']} without a twin within a voxel (float16 run: {c['n_b']} picks).\n")
    write_result("fp16_input", md, {"compare": c, "scores": {k: s for k, (_, s) in rows.items()}}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
