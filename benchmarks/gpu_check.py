"""GPU timings: 7-TTA seconds per full-size tomogram per architecture (fp16, bf16, seed tiling and untiled), and the
10-model seed ensemble. Random weights (speed does not depend on them). Skips with a message without CUDA.

    python benchmarks/gpu_check.py [--results DIR] [--shape 184 630 630]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402

PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "T4": 65.0, "A10": 125.0}


def main(argv=None) -> int:
    import numpy as np
    import torch
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", default=None)
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device; nothing to measure"); return 0
    from torch.utils.flop_counter import FlopCounterMode
    from cryo_infer.predict import Member, predict_volume
    from cryo_infer.window import SEED_WINDOW, WindowConfig
    from cryo_models import create_model, seed_table
    name = torch.cuda.get_device_name(0)
    peak = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    vol = torch.randn(*args.shape, device="cuda").float()
    rows = []

    def timed(members, window, amp):
        predict_volume(members, vol[:64, :192, :192].cpu().numpy(), WindowConfig(roi_size=(64, 192, 192)), "none", device="cuda",
                       amp=amp, progress=False)  # warm-up
        torch.cuda.synchronize(); t = time.perf_counter()
        predict_volume(members, vol.cpu().numpy(), window, "seed", device="cuda", amp=amp, progress=False)
        torch.cuda.synchronize(); return time.perf_counter() - t

    for arch in ["unet_v1", "unet_v2", "unet_v3", "segresnet", "densevnet", "voxresnet", "voxhrnet", "unet2e3d"]:
        m = create_model(arch).eval().cuda()
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            m(torch.zeros(1, 1, *SEED_WINDOW.roi_size, device="cuda"))
        tile_flops = fc.get_total_flops()
        for amp in ("fp16", "bf16"):
            for label, win in (("seed tiling", SEED_WINDOW), ("untiled", WindowConfig(roi_size=(0, 0, 0)))):
                try:
                    s = timed([Member(m)], win, amp)
                    n_tiles = 8 if label == "seed tiling" else None
                    tf = tile_flops * 7 * n_tiles / s / 1e12 if n_tiles else None
                    rows.append((arch, amp, label, s, tf))
                    print(arch, amp, label, f"{s:.2f} s", flush=True)
                except torch.OutOfMemoryError:
                    rows.append((arch, amp, label, float("nan"), None)); torch.cuda.empty_cache()
        del m; torch.cuda.empty_cache()
    t = seed_table()
    members = [Member(create_model(r["arch"]).eval().cuda()) for r in t.iter_rows(named=True) if r["no"] in (1, 2, 3, 4, 6, 7, 9, 10, 11, 12)]
    ens_s = timed(members, SEED_WINDOW, "fp16")
    md = header(f"GPU check on {name}", "torch", "cryo-infer")
    md += (f"\nOne tomogram of {tuple(args.shape)}, 7 TTA views, softmax averaging, random weights. Peak dense fp16/bf16: "
           f"{peak} TFLOP/s.\n\n| arch | autocast | tiling | seconds / tomogram | TFLOP/s | fraction of peak |\n|---|---|---|---|---|---|\n")
    for arch, amp, label, s, tf in rows:
        frac = f"{tf / peak:.3f}" if (tf and peak) else ""
        md += f"| {arch} | {amp} | {label} | {s:.2f} | {'' if tf is None else f'{tf:.1f}'} | {frac} |\n"
    md += f"\n**10-model seed ensemble (rows 1,2,3,4,6,7,9,10,11,12), fp16, seed tiling: {ens_s:.2f} s per tomogram** (goal on one H100: <= 5 s; the seed needed about 156 s on a T4 with TensorRT).\n"
    write_result("gpu_check", md, {"rows": rows, "ensemble_s": ens_s, "gpu": name}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
