"""Inference speed: cryo_infer.predict_volume against MONAI sliding_window_inference + a hand-written TTA loop per tile.

Same model, same volume, same tiles (roi, overlap), same 7 TTA views, same softmax averaging, one run; outputs are
compared voxel by voxel. CPU by default on a full 184x630x630 tomogram with cryo-infer's CPU tiling (64x192x192, one
view per pass: expect about 10-15 minutes per method on 2 cores; the volume is a zarr array on disk, which
cryo_infer reads tile by tile and the MONAI baseline loads whole); `--shape` and `--roi` state other sizes. Methods:
`monai` (the baseline), `cryo` (cryo_infer.predict_volume, eager model), `cryo-compiled` (the same with
`compile=True`: torch.compile with frozen weights, compile time included, cold inductor cache), `cryo-untiled` (the
whole volume as one tile; only for volumes that fit). Peak RSS of each method is measured in its own process and
checked against the 3 GB bound. With CUDA, a GPU section runs benchmarks/gpu_check.py (seconds per tomogram for
one model and the 10-model ensemble, fraction of the card's peak FLOP/s); skipped without.

    python benchmarks/infer_speed.py [--arch unet_v1] [--shape 184 630 630] [--roi 64 192 192] [--tta 7]
                                     [--methods monai cryo-compiled ...] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, random_zarr_volume, run_isolated, write_result  # noqa: E402

CODE = r"""
import json, os, tempfile, time, resource, numpy as np, torch
os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor_cold_")  # compile time measured cold
from cryo_models import create_model
torch.manual_seed(0)
arch, shape, roi, ov, n_tta, method, untiled, comp = {arch!r}, {shape}, {roi}, {overlap}, {n_tta}, {method!r}, {untiled}, {comp}
model = create_model(arch).eval()
import zarr
vol = zarr.open({zpath!r}, mode="r")  # cryo_infer reads tile by tile, as from a copick tomogram
if method == "monai": vol = vol[...]  # MONAI needs the whole volume in memory
from cryo_infer.tta import RECIPE_TTA, get_tta
views = get_tta(list(RECIPE_TTA[:n_tta]))
from cryo_infer.predict import scored_channels
idx = scored_channels(model.cryo_classes)
t = time.perf_counter()
if method == "cryo":
    from cryo_infer.predict import predict_volume
    from cryo_infer.window import WindowConfig
    w = WindowConfig(roi_size=(0, 0, 0) if untiled else roi, overlap_vox=ov, blend="constant", views_per_pass=1)
    out = predict_volume(model, vol, w, [v.name for v in views], progress=False, compile=comp)
else:
    from monai.inferers import sliding_window_inference
    x = torch.from_numpy(vol)[None, None]
    def predictor(t_):  # per tile, as the 2nd place: z-score, every TTA view, softmax, inverse view, average probabilities
        t_ = (t_ - t_.mean()) / t_.std(correction=0)
        acc = None
        for v in views:
            p = v.inverse(torch.softmax(model(v.forward(t_)), 1))
            acc = p if acc is None else acc + p
        return acc / len(views)
    with torch.inference_mode():
        y = sliding_window_inference(x, roi, 1, predictor, overlap=[o / r for o, r in zip(ov, roi)], mode="constant")
    out = y[0, idx].numpy()
sec = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
np.save({npy!r}, out)
print(json.dumps({{"seconds": sec, "peak_rss_mb": rss}}))
"""


def max_abs_diff(a_path: str, b_path: str, chunk: int = 8) -> float:
    """Largest absolute difference of two saved (C, z, y, x) arrays, read in z-chunks."""
    import numpy as np

    a, b = np.load(a_path, mmap_mode="r"), np.load(b_path, mmap_mode="r")
    if a.shape != b.shape:
        raise ValueError(f"outputs differ in shape: {a.shape} vs {b.shape}")
    return max(float(np.abs(a[:, z : z + chunk] - b[:, z : z + chunk]).max()) for z in range(0, a.shape[1], chunk))


def main(argv=None) -> int:
    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="unet_v1")
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--roi", type=int, nargs=3, default=[64, 192, 192])
    ap.add_argument("--overlap", type=int, nargs=3, default=[32, 32, 32])
    ap.add_argument("--tta", type=int, default=7)
    ap.add_argument(
        "--methods",
        nargs="*",
        default=None,
        choices=["monai", "cryo", "cryo-compiled", "cryo-untiled"],
        help="default: monai and cryo-compiled; also cryo and cryo-untiled for volumes up to 16M voxels",
    )
    ap.add_argument("--results", default=None)
    ap.add_argument("--tmp", default="/tmp")
    args = ap.parse_args(argv)
    from cryo_infer.window import tile_grid

    grid = tile_grid(args.shape, args.roi, args.overlap)
    small = int(np.prod(args.shape)) <= 16_000_000
    methods = args.methods or (
        ["monai", "cryo", "cryo-compiled", "cryo-untiled"] if small else ["monai", "cryo-compiled"]
    )
    if "monai" not in methods:
        methods = ["monai"] + methods
    zpath = random_zarr_volume(f"{args.tmp}/infer_speed_volume.zarr", args.shape)
    rows, npys = {}, {}
    for method in methods:
        npy = npys[method] = f"{args.tmp}/infer_speed_{method}.npy"
        r = run_isolated(
            CODE.format(
                arch=args.arch,
                shape=tuple(args.shape),
                roi=tuple(args.roi),
                overlap=tuple(args.overlap),
                n_tta=args.tta,
                method="monai" if method == "monai" else "cryo",
                untiled=method == "cryo-untiled",
                comp=method == "cryo-compiled",
                npy=npy,
                zpath=zpath,
            )
        )
        rows[method] = r
        print(method, f"{r['seconds']:.1f} s", f"{r['peak_rss_mb']:.0f} MB", flush=True)
    for k in rows:
        rows[k]["max_abs_diff_vs_monai"] = max_abs_diff(npys["monai"], npys[k])
    base = rows["monai"]
    md = header(
        "Inference speed: cryo_infer vs MONAI sliding_window_inference + TTA loop", "torch", "monai", "cryo-infer"
    )
    md += (
        f"\nModel {args.arch} (random weights), volume {tuple(args.shape)} ({np.prod(args.shape) / 1e6:.1f}M voxels), tiles "
        f"{tuple(args.roi)} with overlap {tuple(args.overlap)} ({len(grid)} tiles, "
        f"{len(grid) * np.prod(args.roi) / np.prod(args.shape):.2f}x the volume), {args.tta} TTA views, one view per "
        "forward pass, constant blending, softmax averaging, float32 on CPU; each method in its own process; outputs "
        "compared over every voxel.\n\n"
        "| method | seconds | speed-up vs MONAI | peak RSS (MB) | within 3 GB | max abs difference of probabilities vs MONAI |\n"
        "|---|---|---|---|---|---|\n"
    )
    for k, r in rows.items():
        md += (
            f"| {k} | {r['seconds']:.1f} | {base['seconds'] / r['seconds']:.2f}x | {r['peak_rss_mb']:.0f} | "
            f"{'yes' if r['peak_rss_mb'] <= 3072 else 'no'} | {r['max_abs_diff_vs_monai']:.2e} |\n"
        )
    md += (
        "\n`cryo` uses the same tiles and blending as the MONAI baseline (equal output up to float rounding). "
        "`cryo-compiled` is the same with `compile=True` (torch.compile, inductor, weights frozen into the graph; its "
        "seconds include compiling from a cold cache). `cryo-untiled` runs the whole volume as one tile; its output "
        "differs near tile borders through the network's receptive field and instance normalisation.\n"
    )
    import torch

    if torch.cuda.is_available():  # GPU section: seconds per tomogram, one model and the 10-model ensemble, % of peak
        import gpu_check

        gpu_check.main(["--results", str(args.results)] if args.results else [])
        md += f"\nGPU section ({torch.cuda.get_device_name(0)}): see gpu_check.md beside this file.\n"
    else:
        md += "\nGPU section skipped: no CUDA device (benchmarks/gpu_check.sh records it on a GPU).\n"
    write_result("infer_speed", md, rows, args.results)
    for p in npys.values():
        Path(p).unlink(missing_ok=True)
    import shutil

    shutil.rmtree(zpath, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
