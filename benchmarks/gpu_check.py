"""GPU timings, in the order a short lease needs them: seconds per full-size tomogram (7 TTA views, 2nd-place tiling,
fp16) for each of the eight architectures alone, then the 2nd place's 10-model ensemble with the device accumulator (one
copy to the host per tomogram) and with the host accumulator, then, if time allows, bf16 and untiled per architecture.
Random weights (speed does not depend on them). gpu_check.md is rewritten after every figure, so a timeout keeps what
was measured. Skips without CUDA. (2026-11-30, one H200: the ensemble's first pass did not finish in 6 minutes.)

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
ARCHS = ("unet_v1", "unet_v2", "unet_v3", "segresnet", "densevnet", "voxresnet", "voxhrnet", "unet2e3d")


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

    def timed(members, window, amp, accumulate_on="auto", tta="2nd-place"):
        "Seconds of one full-tomogram pass, after a warm-up on one tile of the same shape (kernels, cuDNN autotune)."
        tile = vol[tuple(slice(0, min(r or s, s)) for r, s in zip(window.roi_size, vol.shape))]
        predict_volume(members, tile, window, tta, device=dev, amp=amp, progress=False, accumulate_on=accumulate_on)
        sync()
        t = time.perf_counter()
        predict_volume(members, vol, window, tta, device=dev, amp=amp, progress=False, accumulate_on=accumulate_on)
        sync()
        return time.perf_counter() - t

    t = seed_table()
    rows_t = [r for r in t.iter_rows(named=True) if r["no"] in ENSEMBLE_ROWS]
    # the device accumulator must give the host accumulator's maps on this device (the CPU test proves it on CPU)
    small = vol[: min(64, vol.shape[0]), : min(192, vol.shape[1]), : min(192, vol.shape[2])]
    small_win = replace(
        window0, roi_size=tuple(min(r, 32 * (s // 32) or r) for r, s in zip(window0.roi_size, small.shape))
    )
    pair = [Member(create_model(a).eval().to(dev)) for a in ("unet_v1", "segresnet")]
    maps = {
        a: predict_volume(pair, small, small_win, "2nd-place", device=dev, amp="fp16", progress=False, accumulate_on=a)
        for a in ("device", "host")
    }
    diff = float(np.abs(maps["device"] - maps["host"]).max())
    print(f"device vs host accumulator on {tuple(small.shape)}: max |diff| {diff:.3g}", flush=True)
    del pair, maps
    # 1. each architecture once (fp16, 2nd-place tiles, 7 views): a short lease still gives every member's cost
    head, per_arch, rows = {}, {}, []
    for arch in ARCHS:
        m = create_model(arch).eval().to(dev)
        per_arch[arch] = timed([Member(m)], window0, "fp16", "device")
        print(f"{arch}: {per_arch[arch]:.2f} s per tomogram (fp16, 7 views)", flush=True)
        del m
        _empty_cache(dev)
        _write(args, name, window0, rows_t, head, per_arch, rows, small, diff, peak)
    head["10-model ensemble, sum of its members' single-model passes"] = sum(per_arch[r["arch"]] for r in rows_t)
    _write(args, name, window0, rows_t, head, per_arch, rows, small, diff, peak)
    # 2. the ensemble itself, device then host accumulator
    members = [Member(create_model(r["arch"]).eval().to(dev)) for r in rows_t]
    for k, acc in (
        ("10-model ensemble, device accumulator", "device"),
        ("10-model ensemble, host accumulator", "host"),
    ):
        t0 = time.perf_counter()
        head[k] = timed(members, window0, "fp16", acc)
        print(k, f"{head[k]:.2f} s (with its warm-up {time.perf_counter() - t0:.0f} s)", flush=True)
        _write(args, name, window0, rows_t, head, per_arch, rows, small, diff, peak)
    del members
    _empty_cache(dev)
    if args.no_sweep:
        return 0
    # 3. bf16 and untiled (one view per pass), with FLOP rates
    n_tiles = len(tile_grid(args.shape, window0.roi_size, window0.overlap_vox))
    for arch in ARCHS:
        m = create_model(arch).eval().to(dev)
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            m(torch.zeros(1, 1, *window0.roi_size, device=dev))
        tile_flops = fc.get_total_flops()
        rows.append(
            (arch, "fp16", "2nd-place tiling", per_arch[arch], tile_flops * 7 * n_tiles / per_arch[arch] / 1e12)
        )
        for amp, label, win in (
            ("bf16", "2nd-place tiling", window0),
            ("fp16", "untiled", WindowConfig(roi_size=(0, 0, 0), views_per_pass=1)),
        ):
            try:
                sec = timed([Member(m)], win, amp)
                tf = tile_flops * 7 * n_tiles / sec / 1e12 if label != "untiled" else None
                rows.append((arch, amp, label, sec, tf))
                print(arch, amp, label, f"{sec:.2f} s", flush=True)
            except torch.OutOfMemoryError:
                rows.append((arch, amp, label, float("nan"), None))
                _empty_cache(dev)
        del m
        _empty_cache(dev)
        _write(args, name, window0, rows_t, head, per_arch, rows, small, diff, peak)
    return 0


def _empty_cache(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.empty_cache()


def _write(args, name, window0, rows_t, head, per_arch, rows, small, diff, peak) -> None:
    "Write every figure measured so far (a timeout keeps them)."
    md = header(f"GPU check on {name}", "torch", "cryo-infer")
    md += (
        f"\nOne tomogram of {tuple(args.shape)} (float32 numpy on the host), 7 TTA views in one batch per tile "
        f"(views_per_pass 7), softmax averaging, fp16 autocast, random weights, cudnn.benchmark on; each pass timed "
        f"after a warm-up on one tile of the same shape. Tiles {window0.roi_size}. Ensemble: 2nd-place table rows "
        f"{', '.join(map(str, ENSEMBLE_ROWS))} ({', '.join(r['arch'] for r in rows_t)}).\n\n"
        f"Device accumulator vs host accumulator (unet_v1 + segresnet, 7 views, fp16, {tuple(small.shape)}): "
        f"max |difference| of the probabilities **{diff:.3g}**.\n\n"
        "| what | seconds / tomogram | within the 5 s goal |\n|---|---|---|\n"
    )
    for k, v in per_arch.items():
        md += f"| one model ({k}), device accumulator | {v:.2f} | {'yes' if v <= GOAL_S else 'no'} |\n"
    for k, v in head.items():
        md += f"| {k} | **{v:.2f}** | {'yes' if v <= GOAL_S else 'no'} |\n"
    if rows:
        md += (
            f"\nPer architecture, 7 views, peak dense fp16/bf16 {peak} TFLOP/s:\n\n"
            "| arch | autocast | tiling | seconds / tomogram | TFLOP/s | fraction of peak |\n|---|---|---|---|---|---|\n"
        )
        for arch, amp, label, sec, tf in rows:
            frac = f"{tf / peak:.3f}" if (tf and peak) else ""
            md += f"| {arch} | {amp} | {label} | {sec:.2f} | {'' if tf is None else f'{tf:.1f}'} | {frac} |\n"
    write_result(
        "gpu_check",
        md,
        {"headline_s": head, "per_arch_s": per_arch, "rows": rows, "gpu": name, "device_vs_host_max_abs": diff},
        args.results,
    )


if __name__ == "__main__":
    raise SystemExit(main())
