"""Peak RSS of cryo_infer on one full-size tomogram on CPU, per architecture (the 3 GB bound of cryo-infer).

One view per forward pass and one shared accumulator for all members; the volume is a zarr array on disk read tile
by tile, as from a copick project. Each architecture runs in its own process with `compile=True`. Default: the
seven TTA views, unet_v1 and unet2e3d (the smallest and the largest activations per voxel among the eight; about
10 and 20 minutes on 2 cores); `--tta 1` is seven times faster and measures slightly less (no view accumulation).

    python benchmarks/infer_memory.py [--archs unet_v1 unet2e3d ...] [--tta 7] [--shape 184 630 630] [--roi 64 192 192] [--results DIR]
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, random_zarr_volume, run_isolated, write_result  # noqa: E402

CODE = r"""
import json, resource, time, numpy as np, torch, zarr
from cryo_models import create_model
from cryo_infer.predict import predict_volume
from cryo_infer.window import WindowConfig
torch.manual_seed(0)
model = create_model({arch!r}).eval()
vol = zarr.open({zpath!r}, mode="r")
t = time.perf_counter()
from cryo_infer.tta import SEED_TTA
out = predict_volume(model, vol, WindowConfig(roi_size={roi}, sw_batch_size=1), list(SEED_TTA[:{tta}]), progress=False, compile=True)
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "output_mb": out.nbytes / 2**20}}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", nargs="*", default=["unet_v1", "unet2e3d"])
    ap.add_argument("--tta", type=int, default=7, help="number of the seed's TTA views")
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--roi", type=int, nargs=3, default=[64, 192, 192])
    ap.add_argument("--results", default=None)
    ap.add_argument("--tmp", default="/tmp")
    args = ap.parse_args(argv)
    zpath = random_zarr_volume(f"{args.tmp}/infer_memory_volume.zarr", args.shape)
    rows = {}
    try:
        for a in args.archs:
            rows[a] = run_isolated(CODE.format(arch=a, zpath=zpath, roi=tuple(args.roi), tta=args.tta))
            print(a, f"{rows[a]['peak_rss_mb']:.0f} MB", flush=True)
    finally:
        shutil.rmtree(zpath, ignore_errors=True)
    md = header("Inference memory: peak RSS per architecture, one full tomogram on CPU", "torch", "cryo-infer")
    md += (f"\nVolume {tuple(args.shape)} (zarr on disk), tiles {tuple(args.roi)}, {args.tta} TTA view(s), one view per pass, compile=True, random "
           "weights; each architecture in its own process. The returned float32 probabilities alone take "
           f"{next(iter(rows.values()))['output_mb']:.0f} MB.\n\n| arch | peak RSS (MB) | within 3 GB | seconds |\n|---|---|---|---|\n")
    for a, r in rows.items():
        md += f"| {a} | {r['peak_rss_mb']:.0f} | {'yes' if r['peak_rss_mb'] <= 3072 else 'no'} | {r['seconds']:.0f} |\n"
    write_result("infer_memory", md, rows, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
