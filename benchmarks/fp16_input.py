"""How many picks the 2nd place's float16 tomogram (2nd-place-parity: round to half precision, then normalise each patch) changes,
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
        if len(pa) == 0 or len(pb) == 0:
            continue
        d = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1)).min(1)
        same += int((d < 1e-6).sum())
        near += int(((d >= 1e-6) & (d < voxel)).sum())
    return {"n_a": len(a), "n_b": len(b), "identical": same, "moved_under_1_voxel": near, "other": len(a) - same - near}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", default=None)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--shape", type=int, nargs=3, default=[64, 192, 192])
    args = ap.parse_args(argv)
    import numpy as np
    from cryo_data.io import open_project
    from cryo_data.simproject import simulate_project
    from cryo_infer.evaluate import score_picks
    from cryo_infer.postprocess import POST_PRESETS, probs_to_picks
    from cryo_infer.predict import predict_volume
    from cryo_infer.window import WindowConfig
    from cryo_models import load_checkpoint
    from cryo_train.config import TrainConfig, apply_overrides
    from cryo_train.fit import fit

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        prj = open_project(simulate_project(d / "p", runs=3, shape=args.shape, seed=50, crowding=3.0, progress=False))
        cfg = apply_overrides(
            TrainConfig(),
            [
                "data.roi_size=[32,64,64]",
                "data.tomo_types=[denoised]",
                "data.samples_per_volume=8",
                "val.post=full",
                "val.every_n_epochs=1000",
                f"trainer.max_epochs={args.epochs}",
            ],
        )
        fit(cfg, prj, ["TS_52"], d / "fit", progress=False)
        model = load_checkpoint(d / "fit" / "checkpoints" / "last.ckpt")
        win = WindowConfig(roi_size=(64, 128, 128))
        t = prj.tomogram("TS_52")
        vol = t.numpy()
        probs = {
            label: predict_volume([model], t.array, w, "2nd-place", progress=False)
            for label, w in (("float32", win), ("float16", replace(win, input_dtype="float16")))
        }
        diff = np.abs(probs["float32"] - probs["float16"])
        rows = []
        for thr in (0.05, 0.10, 0.15):
            post = replace(
                POST_PRESETS["2nd-place-parity"],
                thresholds={n: thr for n in POST_PRESETS["2nd-place-parity"].thresholds},
            )
            a, b = (probs_to_picks(probs[k], t.voxel_size_A, post, run="TS_52") for k in ("float32", "float16"))
            c = compare(a, b, float(t.voxel_size_A[0]))
            rows.append((thr, c, score_picks(prj, a, ["TS_52"]).score, score_picks(prj, b, ["TS_52"]).score))
    md = header("float16 tomogram before normalisation (2nd-place-parity): picks changed", "cryo-infer", "torch")
    md += (
        f"\nOne simulated run {tuple(args.shape)} (voxel values {vol.min():.3g} .. {vol.max():.3g}, mostly below float16's smallest normal number 6.1e-05"
        f"), a unet_v1 trained here for {args.epochs} epochs, 7 TTA, tiles 64x128x128, "
        f"the 2nd-place-parity post-processing at three thresholds. Probability maps: max abs difference {diff.max():.3g}, "
        f"mean {diff.mean():.3g}.\n\n| threshold | float32 picks | float16 picks | identical | moved < 1 voxel | no twin | "
        "F-beta float32 | F-beta float16 |\n|---|---|---|---|---|---|---|---|\n"
        + "".join(
            f"| {thr} | {c['n_a']} | {c['n_b']} | {c['identical']} | {c['moved_under_1_voxel']} | {c['other']} | {sa:.4f} | {sb:.4f} |\n"
            for thr, c, sa, sb in rows
        )
    )
    write_result("fp16_input", md, {"rows": rows, "max_abs_prob_diff": float(diff.max())}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
