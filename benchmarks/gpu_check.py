"""GPU timings: seconds per full-size tomogram for one model and for the 2nd place's 10-model ensemble (7 TTA views, 2nd-place
tiling, fp16), with the device accumulator (one copy to the host per tomogram) and with the host accumulator; then, if
time allows, every architecture in fp16/bf16, 2nd-place tiling and untiled. Random weights (speed does not depend on them).
The headline figures are written to gpu_check.md before the sweep starts, so a timeout keeps them. Skips without CUDA.

    python benchmarks/gpu_check.py [--results DIR] [--shape 184 630 630] [--no-sweep]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402

PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "T4": 65.0, "A10": 125.0}
ENSEMBLE_ROWS = (1, 2, 3, 4, 6, 7, 9, 10, 11, 12)
GOAL_S = 5.0


def main(argv=None) -> int:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=None)
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--no-sweep", action="store_true", help="only the headline figures")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device; nothing to measure")
        return 0
    from cryo_infer.predict import Member, predict_volume
    from cryo_infer.window import RECIPE_WINDOW, WindowConfig
    from cryo_models import create_model, seed_table
    from torch.utils.flop_counter import FlopCounterMode

    torch.backends.cudnn.benchmark = True  # fixed tile shapes: let cuDNN pick its fastest 3D convolution once
    name = torch.cuda.get_device_name(0)
    peak = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    vol = (
        np.random.default_rng(0).standard_normal(tuple(args.shape)).astype(np.float32)
    )  # host volume, as read from disk

    def timed(members, window, amp, accumulate_on="auto"):
        predict_volume(
            members,
            vol[:64, :192, :192],
            WindowConfig(roi_size=(64, 192, 192)),
            "none",
            device="cuda",
            amp=amp,
            progress=False,
        )  # warm-up (CUDA context, kernels)
        predict_volume(
            members, vol, window, "2nd-place", device="cuda", amp=amp, progress=False, accumulate_on=accumulate_on
        )  # cuDNN autotune
        torch.cuda.synchronize()
        t = time.perf_counter()
        predict_volume(
            members, vol, window, "2nd-place", device="cuda", amp=amp, progress=False, accumulate_on=accumulate_on
        )
        torch.cuda.synchronize()
        return time.perf_counter() - t

    t = seed_table()
    rows_t = [r for r in t.iter_rows(named=True) if r["no"] in ENSEMBLE_ROWS]
    members = [Member(create_model(r["arch"]).eval().cuda()) for r in rows_t]
    head = {}
    head["one model (unet_v1), device accumulator"] = timed(
        [Member(create_model("unet_v1").eval().cuda())], RECIPE_WINDOW, "fp16", "device"
    )
    head["10-model ensemble, device accumulator"] = timed(members, RECIPE_WINDOW, "fp16", "device")
    head["10-model ensemble, host accumulator"] = timed(members, RECIPE_WINDOW, "fp16", "host")
    for k, v in head.items():
        print(k, f"{v:.2f} s", flush=True)
    md = header(f"GPU check on {name}", "torch", "cryo-infer")
    md += (
        f"\nOne tomogram of {tuple(args.shape)} (float32 numpy on the host), 7 TTA views in one batch per tile "
        f"(views_per_pass 7), 2nd-place tiling (128, 384, 384), softmax averaging, fp16 autocast, random weights, "
        f"cudnn.benchmark on; timed after a warm-up and one untimed pass. Ensemble: 2nd-place table rows "
        f"{', '.join(map(str, ENSEMBLE_ROWS))} ({', '.join(r['arch'] for r in rows_t)}).\n\n"
        "| what | seconds / tomogram | within the 5 s goal |\n|---|---|---|\n"
    )
    for k, v in head.items():
        md += f"| {k} | **{v:.2f}** | {'yes' if v <= GOAL_S else 'no'} |\n"
    write_result("gpu_check", md, {"headline_s": head, "gpu": name}, args.results)
    del members
    torch.cuda.empty_cache()
    if args.no_sweep:
        return 0
    rows = []
    for arch in ["unet_v1", "unet_v2", "unet_v3", "segresnet", "densevnet", "voxresnet", "voxhrnet", "unet2e3d"]:
        m = create_model(arch).eval().cuda()
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            m(torch.zeros(1, 1, *RECIPE_WINDOW.roi_size, device="cuda"))
        tile_flops = fc.get_total_flops()
        for amp in ("fp16", "bf16"):
            for label, win in (
                ("2nd-place tiling", RECIPE_WINDOW),
                ("untiled", WindowConfig(roi_size=(0, 0, 0), views_per_pass=1)),
            ):
                try:
                    s = timed([Member(m)], win, amp)
                    n_tiles = 8 if label == "2nd-place tiling" else None
                    tf = tile_flops * 7 * n_tiles / s / 1e12 if n_tiles else None
                    rows.append((arch, amp, label, s, tf))
                    print(arch, amp, label, f"{s:.2f} s", flush=True)
                except torch.OutOfMemoryError:
                    rows.append((arch, amp, label, float("nan"), None))
                    torch.cuda.empty_cache()
        del m
        torch.cuda.empty_cache()
    md += (
        f"\nPer architecture, 7 views, peak dense fp16/bf16 {peak} TFLOP/s:\n\n"
        "| arch | autocast | tiling | seconds / tomogram | TFLOP/s | fraction of peak |\n|---|---|---|---|---|---|\n"
    )
    for arch, amp, label, s, tf in rows:
        frac = f"{tf / peak:.3f}" if (tf and peak) else ""
        md += f"| {arch} | {amp} | {label} | {s:.2f} | {'' if tf is None else f'{tf:.1f}'} | {frac} |\n"
    write_result("gpu_check", md, {"headline_s": head, "rows": rows, "gpu": name}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
