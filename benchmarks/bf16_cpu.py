"""CPU bfloat16 autocast against float32 for inference, one run: speed per tile and the pick-level F-beta change.

Speed: `predict_volume` on one 64x192x192 tile (cryo-infer's CPU tiling), one view, unet_v1 at the 2nd place's widths
(random weights), eager and compiled, float32 vs the model under `torch.autocast("cpu", torch.bfloat16)` (oneDNN uses
AVX512-BF16/AMX where the CPU has them; predict_volume itself keeps float32 on CPU); interleaved repeats, medians. Picks: a small UNet trained for `--steps` on a simulated project
(cryo_train.demo's recipe), the held-out run predicted with the 2nd place's 7 views in float32 and in bf16, post-processed
with the `full` preset and scored against the simulated truth; also the bf16 picks scored against the float32 picks.

    python benchmarks/bf16_cpu.py [--steps 120] [--repeats 3] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402


def cpu_flags() -> str:
    try:
        flags = next(
            line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")
        ).split()
    except (OSError, StopIteration):
        return "unknown"
    return (
        ", ".join(f for f in ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags) or "none of avx512/amx"
    )


def bf16_wrapper(model):
    """The model under CPU bfloat16 autocast (predict_volume keeps float32 on CPU), float32 out."""
    import torch

    class BF16(torch.nn.Module):
        cryo_classes = model.cryo_classes
        cryo_arch = getattr(model, "cryo_arch", None)

        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, x):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return self.m(x).float()

    return BF16().eval()


def speed(repeats: int) -> dict:
    import torch
    from cryo_infer.predict import predict_volume
    from cryo_infer.window import WindowConfig
    from cryo_models import create_model

    torch.manual_seed(0)
    model = create_model("unet_v1").eval()
    vol = np.random.default_rng(0).standard_normal((64, 192, 192)).astype(np.float32)
    win = WindowConfig(roi_size=(64, 192, 192), views_per_pass=1)
    nets = {None: model, "bf16": bf16_wrapper(model)}
    cases = [(c, a) for c in (False, True) for a in (None, "bf16")]
    out, times = {}, {k: [] for k in cases}
    for c, a in cases:  # warm-up: compiles once per precision
        out[(c, a)] = predict_volume(nets[a], vol, win, "none", progress=False, compile=c)
    for _ in range(repeats):
        for c, a in cases:
            t = time.perf_counter()
            predict_volume(nets[a], vol, win, "none", progress=False, compile=c)
            times[(c, a)].append(time.perf_counter() - t)
    med = {f"{'compiled' if c else 'eager'}_{a or 'fp32'}": float(np.median(v)) for (c, a), v in times.items()}
    med["max_prob_diff_eager"] = float(np.abs(out[(False, None)] - out[(False, "bf16")]).max())
    return med


def picks_change(steps: int, tmp: Path) -> dict:
    from dataclasses import replace

    import polars as pl
    from cryo_data.picks import read_picks
    from cryo_infer.postprocess import POST_PRESETS, probs_to_picks
    from cryo_infer.predict import predict_volume
    from cryo_infer.window import WindowConfig
    from cryo_metric import score
    from cryo_models import load_checkpoint
    from cryo_train.demo import DemoConfig, demo_project, demo_train

    cfg = DemoConfig(runs=3, steps=steps, test_family=None)
    prj = demo_project(tmp, cfg)
    fitted = demo_train(prj, tmp, cfg, progress=False)
    ckpt = fitted.out_dir / "best.pt"
    if not ckpt.exists():  # no validation epoch finished within the budget: the last weights
        ckpt = fitted.out_dir / "checkpoints" / "last.ckpt"
    model = load_checkpoint(ckpt).eval()
    run = prj.runs()[-1]
    tomo = prj.tomogram(run)
    truth = read_picks(prj, [run])
    win = WindowConfig(roi_size=(64, 192, 192), overlap_vox=(16, 32, 32))
    low = replace(
        POST_PRESETS["full"], thresholds={k: 0.05 for k in POST_PRESETS["full"].thresholds}
    )  # fit's OOF threshold
    res = {}
    for a in (None, "bf16"):
        t = time.perf_counter()
        probs = predict_volume(
            model if a is None else bf16_wrapper(model), tomo.array, win, "2nd-place", progress=False
        )
        secs = time.perf_counter() - t
        pk = probs_to_picks(probs, tomo.voxel_size_A, "full", run=run)
        pk_low = probs_to_picks(probs, tomo.voxel_size_A, low, run=run)
        res[a or "fp32"] = {
            "seconds": secs,
            "picks": pk,
            "probs": probs,
            "fbeta": score(truth, pk).score,
            "fbeta_low": score(truth, pk_low).score,
            "n_low": len(pk_low),
        }
    agree = float("nan")
    if len(res["fp32"]["picks"]):  # bf16 picks against the float32 picks, over the classes float32 picked
        pc_ = score(res["fp32"]["picks"], res["bf16"]["picks"]).per_class
        present = pc_.filter(pl.col("particle_type").is_in(res["fp32"]["picks"]["particle_type"].unique().to_list()))
        agree = float((present["fbeta"] * present["weight"]).sum() / present["weight"].sum())
    return {
        "fbeta_fp32": res["fp32"]["fbeta"],
        "fbeta_bf16": res["bf16"]["fbeta"],
        "fbeta_low_fp32": res["fp32"]["fbeta_low"],
        "fbeta_low_bf16": res["bf16"]["fbeta_low"],
        "n_low_fp32": res["fp32"]["n_low"],
        "n_low_bf16": res["bf16"]["n_low"],
        "n_picks_fp32": len(res["fp32"]["picks"]),
        "n_picks_bf16": len(res["bf16"]["picks"]),
        "bf16_vs_fp32_picks_fbeta": agree,
        "max_prob_diff": float(np.abs(res["fp32"]["probs"] - res["bf16"]["probs"]).max()),
        "seconds_fp32": res["fp32"]["seconds"],
        "seconds_bf16": res["bf16"]["seconds"],
        "train_best_fbeta": fitted.best_fbeta,
        "checkpoint": ckpt.name,
        "shape": list(cfg.shape),
        "steps": cfg.epochs * cfg.steps_per_epoch,
        "run": run,
        "_unused": pl.__version__,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=120, help="optimisation steps of the small UNet (fixed work)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)
    sp = speed(args.repeats)
    print(sp, flush=True)
    with tempfile.TemporaryDirectory(prefix="bf16_cpu_") as d:
        pc = picks_change(args.steps, Path(d))
    pc.pop("_unused")
    e, c = sp["eager_fp32"] / sp["eager_bf16"], sp["compiled_fp32"] / sp["compiled_bf16"]
    wins = max(e, c) > 1.1
    md = header("CPU bf16 autocast vs float32 for inference", "torch", "cryo-infer")
    md += (
        f"\nCPU flags: {cpu_flags()}. Speed: one 64x192x192 tile, one view, unet_v1 (the 2nd place's widths, random weights), "
        f"medians of {args.repeats} interleaved repeats.\n\n| mode | float32 s | bf16 s | speed-up of bf16 |\n|---|---|---|---|\n"
        f"| eager | {sp['eager_fp32']:.2f} | {sp['eager_bf16']:.2f} | **{e:.2f}x** |\n"
        f"| compiled (`compile=True`) | {sp['compiled_fp32']:.2f} | {sp['compiled_bf16']:.2f} | **{c:.2f}x** |\n\n"
        f"Max |p_bf16 - p_fp32| on this tile (eager): {sp['max_prob_diff_eager']:.3g}.\n\n"
        f"Picks: a UNet {tuple(pc['shape'])}-volume demo model trained {pc['steps']} steps on simulated runs (validation "
        f"F-beta {pc['train_best_fbeta'] if pc['train_best_fbeta'] is None else round(pc['train_best_fbeta'], 4)}), held-out run "
        f"{pc['run']}, 7 views, post `full` (thresholds 0.15) and the same with thresholds 0.05 (training's out-of-fold "
        f"setting):\n\n| precision | picks (0.15) | F-beta vs truth (0.15) | picks (0.05) | F-beta vs truth (0.05) | seconds |\n|---|---|---|---|---|---|\n"
        f"| float32 | {pc['n_picks_fp32']} | {pc['fbeta_fp32']:.4f} | {pc['n_low_fp32']} | {pc['fbeta_low_fp32']:.4f} | {pc['seconds_fp32']:.1f} |\n"
        f"| bf16 | {pc['n_picks_bf16']} | {pc['fbeta_bf16']:.4f} | {pc['n_low_bf16']} | {pc['fbeta_low_bf16']:.4f} | {pc['seconds_bf16']:.1f} |\n\n"
        f"F-beta change: **{pc['fbeta_bf16'] - pc['fbeta_fp32']:+.4f}** (0.15), **{pc['fbeta_low_bf16'] - pc['fbeta_low_fp32']:+.4f}** (0.05); "
        f"bf16 picks scored against the float32 picks (weighted over the classes float32 picked): "
        f"{pc['bf16_vs_fp32_picks_fbeta']:.4f}; max probability difference {pc['max_prob_diff']:.3g}.\n\n"
        + (
            "bf16 wins on speed here: worth offering as an explicit CPU option (never a default).\n"
            if wins
            else "bf16 does not win on this CPU (speed-up <= 1.1x): float32 stays the only CPU precision (`amp` applies on GPU "
            "only) and the CLI gets no CPU precision switch.\n"
        )
    )
    write_result(
        "bf16_cpu",
        md,
        {
            "speed": sp,
            "picks": pc,
            "speedup_eager": e,
            "speedup_compiled": c,
            "bf16_wins": wins,
            "cpu_flags": cpu_flags(),
        },
        args.results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
