"""GPU timings: seconds per full-size tomogram for one model and for the 2nd place's 10-model ensemble (7 TTA views, 2nd-place
tiling, fp16), with the device accumulator (one copy to the host per tomogram) and with the host accumulator; then, if
time allows, every architecture in fp16/bf16, 2nd-place tiling and untiled. Random weights (speed does not depend on them).
The headline figures are written to gpu_check.md before the sweep starts, so a timeout keeps them. Skips without CUDA.

    python benchmarks/gpu_check.py [--results DIR] [--shape 184 630 630] [--no-sweep]
    python benchmarks/gpu_check.py --device cpu --shape 32 96 96 --roi 32 96 96 --no-sweep   # a smoke test of this script
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


def _write_head(args, name, window0, rows_t, head, small, diff) -> str:
    "Write the headline figures measured so far (a timeout keeps them)."
    md = header(f"GPU check on {name}", "torch", "cryo-infer")
    md += (
        f"\nOne tomogram of {tuple(args.shape)} (float32 numpy on the host), 7 TTA views in one batch per tile "
        f"(views_per_pass 7), softmax averaging, fp16 autocast, random weights, "
        f"cudnn.benchmark on; timed after a warm-up and one untimed pass. Tiles {window0.roi_size}. Ensemble: 2nd-place table rows "
        f"{', '.join(map(str, ENSEMBLE_ROWS))} ({', '.join(r['arch'] for r in rows_t)}).\n\n"
        "| what | seconds / tomogram | within the 5 s goal |\n|---|---|---|\n"
    )
    for k, v in head.items():
        md += f"| {k} | **{v:.2f}** | {'yes' if v <= GOAL_S else 'no'} |\n"
    md += (
        f"\nDevice accumulator vs host accumulator, 2 members, 7 views, fp16, {tuple(small.shape)}: "
        f"max |difference| of the probabilities **{diff:.3g}**.\n"
    )
    write_result("gpu_check", md, {"headline_s": head, "gpu": name, "device_vs_host_max_abs": diff}, args.results)
    return md


def main(argv=None) -> int:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=None)
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--no-sweep", action="store_true", help="only the headline figures")
    ap.add_argument("--device", default="cuda", help="cuda; cpu only to smoke-test this script on tiny shapes")
    ap.add_argument("--roi", type=int, nargs=3, default=None, help="tile size (default: the 2nd place's 128 384 384)")
    args = ap.parse_args(argv)
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device; nothing to measure")
        return 0
    from dataclasses import replace

    from cryo_infer.predict import Member, predict_volume
    from cryo_infer.window import RECIPE_WINDOW, WindowConfig, tile_grid
    from cryo_models import create_model, seed_table
    from torch.utils.flop_counter import FlopCounterMode

    torch.backends.cudnn.benchmark = True  # fixed tile shapes: let cuDNN pick its fastest 3D convolution once
    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else f"CPU smoke test ({args.device})"
    window0 = RECIPE_WINDOW if args.roi is None else replace(RECIPE_WINDOW, roi_size=tuple(args.roi))
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
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
            device=dev,
            amp=amp,
            progress=False,
        )  # warm-up (CUDA context, kernels)
        predict_volume(
            members, vol, window, "2nd-place", device=dev, amp=amp, progress=False, accumulate_on=accumulate_on
        )  # cuDNN autotune
        sync()
        t = time.perf_counter()
        predict_volume(
            members, vol, window, "2nd-place", device=dev, amp=amp, progress=False, accumulate_on=accumulate_on
        )
        sync()
        return time.perf_counter() - t

    t = seed_table()
    rows_t = [r for r in t.iter_rows(named=True) if r["no"] in ENSEMBLE_ROWS]
    members = [Member(create_model(r["arch"]).eval().to(dev)) for r in rows_t]
    # the device accumulator must give the host accumulator's maps on this device (the CPU test proves it on CPU)
    small = vol[: min(64, vol.shape[0]), : min(192, vol.shape[1]), : min(192, vol.shape[2])]
    small_win = replace(
        window0, roi_size=tuple(min(r, 32 * (s // 32) or r) for r, s in zip(window0.roi_size, small.shape))
    )
    maps = {
        a: predict_volume(
            members[:2], small, small_win, "2nd-place", device=dev, amp="fp16", progress=False, accumulate_on=a
        )
        for a in ("device", "host")
    }
    diff = float(np.abs(maps["device"] - maps["host"]).max())
    print(f"device vs host accumulator on {tuple(small.shape)}: max |diff| {diff:.3g}", flush=True)
    head = {}
    runs = {
        "one model (unet_v1), device accumulator": lambda: timed(
            [Member(create_model("unet_v1").eval().to(dev))], window0, "fp16", "device"
        ),
        "10-model ensemble, device accumulator": lambda ms=members: timed(ms, window0, "fp16", "device"),
        "10-model ensemble, host accumulator": lambda ms=members: timed(ms, window0, "fp16", "host"),
    }
    for k, fn in runs.items():
        t0 = time.perf_counter()
        head[k] = fn()
        print(k, f"{head[k]:.2f} s (section with warm-ups {time.perf_counter() - t0:.0f} s)", flush=True)
        _write_head(args, name, window0, rows_t, head, small, diff)
    md = _write_head(args, name, window0, rows_t, head, small, diff)
    del members
    torch.cuda.empty_cache()
    if args.no_sweep:
        return 0
    rows = []
    for arch in ["unet_v1", "unet_v2", "unet_v3", "segresnet", "densevnet", "voxresnet", "voxhrnet", "unet2e3d"]:
        m = create_model(arch).eval().to(dev)
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            m(torch.zeros(1, 1, *window0.roi_size, device=dev))
        tile_flops = fc.get_total_flops()
        n_tiles = len(tile_grid(args.shape, window0.roi_size, window0.overlap_vox))
        for amp, label, win in (
            ("fp16", "2nd-place tiling", window0),
            ("bf16", "2nd-place tiling", window0),
            ("fp16", "untiled", WindowConfig(roi_size=(0, 0, 0), views_per_pass=1)),
        ):
            try:
                s = timed([Member(m)], win, amp)
                tf = tile_flops * 7 * n_tiles / s / 1e12 if label != "untiled" else None
                rows.append((arch, amp, label, s, tf))
                print(arch, amp, label, f"{s:.2f} s", flush=True)
            except torch.OutOfMemoryError:
                rows.append((arch, amp, label, float("nan"), None))
                torch.cuda.empty_cache()
        del m
        torch.cuda.empty_cache()
        table = (
            f"\nPer architecture, 7 views, peak dense fp16/bf16 {peak} TFLOP/s (written after each architecture):\n\n"
            "| arch | autocast | tiling | seconds / tomogram | TFLOP/s | fraction of peak |\n|---|---|---|---|---|---|\n"
        )
        for arch_, amp, label, s, tf in rows:
            frac = f"{tf / peak:.3f}" if (tf and peak) else ""
            table += f"| {arch_} | {amp} | {label} | {s:.2f} | {'' if tf is None else f'{tf:.1f}'} | {frac} |\n"
        write_result("gpu_check", md + table, {"headline_s": head, "rows": rows, "gpu": name}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
