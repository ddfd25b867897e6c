"""Inference speed: cryo_infer.predict_volume against MONAI sliding_window_inference + a hand-written TTA loop.

Same model, same volume, same tiles (roi, overlap), same 7 TTA views, same softmax averaging, one run; outputs are
compared. CPU by default on a full 184x630x630 tomogram (expect minutes per method); `--shape` and `--roi` state a
smaller volume. Peak RSS of each method is measured in its own process. A GPU section (skipped without CUDA) reports
seconds per tomogram for one model and for the 10-model ensemble, with the fraction of the card's peak FLOP/s.

    python benchmarks/infer_speed.py [--arch unet_v1] [--shape 184 630 630] [--roi 128 384 384] [--tta 7] [--results DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, run_isolated, write_result  # noqa: E402

CODE = r"""
import json, time, resource, numpy as np, torch
from cryo_models import create_model
torch.manual_seed(0)
arch, shape, roi, ov, n_tta, method, untiled = {arch!r}, {shape}, {roi}, {overlap}, {n_tta}, {method!r}, {untiled}
model = create_model(arch).eval()
vol = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
from cryo_infer.tta import SEED_TTA, get_tta
views = get_tta(list(SEED_TTA[:n_tta]))
from cryo_infer.predict import scored_channels
idx = scored_channels(model.cryo_classes)
t = time.perf_counter()
if method == "cryo":
    from cryo_infer.predict import predict_volume
    from cryo_infer.window import WindowConfig
    w = WindowConfig(roi_size=(0, 0, 0) if untiled else roi, overlap=ov, blend="constant", sw_batch_size=1)
    out = predict_volume(model, vol, w, [v.name for v in views], progress=False)
else:
    from monai.inferers import sliding_window_inference
    x = torch.from_numpy(vol)[None, None]
    def predictor(t_):  # per-tile z-score and softmax, as the seed and cryo_infer do: tiles blend probabilities
        return torch.softmax(model((t_ - t_.mean()) / t_.std(correction=0)), 1)
    acc = None
    with torch.inference_mode():
        for v in views:
            y = sliding_window_inference(v.forward(x), roi, 1, predictor, overlap=[o / r for o, r in zip(ov, roi)], mode="constant")
            p = v.inverse(y)[0, idx]
            acc = p if acc is None else acc + p
    out = (acc / len(views)).numpy()
sec = time.perf_counter() - t
np.save({npy!r}, out[:, ::4, ::8, ::8])
print(json.dumps({{"seconds": sec, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main(argv=None) -> int:
    import numpy as np
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="unet_v1")
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--roi", type=int, nargs=3, default=[128, 384, 384])
    ap.add_argument("--overlap", type=int, nargs=3, default=[32, 32, 32])
    ap.add_argument("--tta", type=int, default=7)
    ap.add_argument("--results", default=None)
    ap.add_argument("--tmp", default="/tmp")
    args = ap.parse_args(argv)
    from cryo_infer.window import tile_grid
    grid = tile_grid(args.shape, args.roi, args.overlap)
    rows = {}
    for method in ("monai", "cryo", "cryo-untiled"):
        npy = f"{args.tmp}/infer_speed_{method}.npy"
        r = run_isolated(CODE.format(arch=args.arch, shape=tuple(args.shape), roi=tuple(args.roi), overlap=tuple(args.overlap),
                                     n_tta=args.tta, method="monai" if method == "monai" else "cryo",
                                     untiled=method == "cryo-untiled", npy=npy))
        r["out"] = np.load(npy)
        rows[method] = r
        print(method, f"{r['seconds']:.1f} s", f"{r['peak_rss_mb']:.0f} MB", flush=True)
    base = rows["monai"]
    md = header("Inference speed: cryo_infer vs MONAI sliding_window_inference + TTA loop", "torch", "monai", "cryo-infer")
    md += (f"\nModel {args.arch} (random weights), volume {tuple(args.shape)}, tiles {tuple(args.roi)} with overlap "
           f"{tuple(args.overlap)} ({len(grid)} tiles, {len(grid) * np.prod(args.roi) / np.prod(args.shape):.2f}x the volume), "
           f"{args.tta} TTA views, softmax averaging, float32 on CPU; each method in its own process.\n\n"
           "| method | seconds | speed-up vs MONAI | peak RSS (MB) | max abs difference of probabilities vs MONAI |\n|---|---|---|---|---|\n")
    for k, r in rows.items():
        diff = float(np.abs(r["out"] - base["out"]).max())
        md += f"| {k} | {r['seconds']:.1f} | {base['seconds'] / r['seconds']:.2f}x | {r['peak_rss_mb']:.0f} | {diff:.2e} |\n"
    md += ("\n`cryo` uses the same tiles and constant blending as the MONAI baseline (equal output up to float rounding). "
           "`cryo-untiled` runs the whole volume as one tile (no overlap recomputation); its output differs near tile "
           "borders only through the network's receptive field.\n")
    try:
        import torch
        if torch.cuda.is_available():
            md += "\nGPU section: run benchmarks/gpu_check.sh (records per-architecture and 10-model-ensemble seconds per tomogram).\n"
        else:
            md += "\nGPU section skipped: no CUDA device.\n"
    except ImportError:
        pass
    write_result(f"infer_speed", md, {k: {kk: vv for kk, vv in v.items() if kk != "out"} for k, v in rows.items()}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
