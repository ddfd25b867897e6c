"""Peak RSS of cryo_infer on full-size tomograms on CPU, per documented path (the 3 GB bound of cryo-infer).

Paths (`--paths`): `predict` (predict_volume per architecture, below), `cli` (the documented command
`cryo-infer run --roi 64 192 192 --compile` over a simulated copick project of three full tomograms, one member of
the first `--archs` architecture, `post: full`, prediction and post-processing of each run), `post` (probs_to_picks
alone on a full-size synthetic probability map loaded from disk, presets `full` and `2nd-place`), `membranes`
(`suppress_membranes`, what `--membranes suppress` adds before prediction, on a full-size run of the `foreign` family
held in memory). Each in its own process.

One view per forward pass and one shared accumulator for all members; the volume is a zarr array on disk read tile
by tile, as from a copick project. Each architecture runs in its own process with `compile=True`. Default: the
seven TTA views, unet_v1 and unet2e3d (the smallest and the largest activations per voxel among the eight; about
10 and 20 minutes on 2 cores); `--tta 1` is seven times faster and measures slightly less (no view accumulation).

    python benchmarks/infer_memory.py [--paths predict cli post membranes] [--archs unet_v1 unet2e3d ...] [--tta 7]
                                      [--shape 184 630 630] [--roi 64 192 192] [--runs 3] [--results DIR] [--name infer_memory]
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
from cryo_infer.tta import RECIPE_TTA
out = predict_volume(model, vol, WindowConfig(roi_size={roi}, views_per_pass=1), list(RECIPE_TTA[:{tta}]), progress=False, compile=True)
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "output_mb": out.nbytes / 2**20}}))
"""

CLI_SETUP = r"""
import json, torch
from cryo_data.simproject import simulate_project
from cryo_infer.ensemble import EnsembleConfig, MemberSpec, save_ensemble
from cryo_infer.tta import RECIPE_TTA
from cryo_models import create_model, save_checkpoint
cfg = simulate_project({root!r} + "/project", runs={runs}, shape={shape}, seed=0, progress=False, overwrite=True)
torch.manual_seed(0)
save_checkpoint(create_model({arch!r}), {root!r} + "/model.pt", overwrite=True)
save_ensemble(EnsembleConfig(members=(MemberSpec({root!r} + "/model.pt"),), tta=tuple(RECIPE_TTA[:{tta}]), post="full"), {root!r} + "/ens.yaml")
print(json.dumps({{"config": str(cfg)}}))
"""

CLI_RUN = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run([sys.executable, "-m", "cryo_infer.cli", "run", "--data", {config!r}, "--ensemble", {root!r} + "/ens.yaml",
                    "--out", {root!r} + "/out", "--roi", *map(str, {roi}), "--compile", "--quiet", "--overwrite"], capture_output=True, text=True)
if r.returncode: raise SystemExit(r.stderr[-3000:])
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                   "stdout": r.stdout.strip()[-300:]}}))
"""

POST = r"""
import json, resource, time, numpy as np
from cryo_infer.postprocess import probs_to_picks
probs = np.load({npy!r})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
n = {{k: len(probs_to_picks(probs, 10.012, k)) for k in ("full", "2nd-place")}}
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "after_load_mb": base, "picks": n, "output_mb": probs.nbytes / 2**20}}))
"""

MEMBRANES_SETUP = r"""
import json
from cryo_data.domains import FAMILIES, RunSpec, simulate_families
shape = {shape}
cfg = simulate_families({root!r}, [RunSpec("F0", FAMILIES["foreign"], 900)], tuple(10.0 * (n + 0.5) for n in shape), progress=False)
print(json.dumps({{"config": str(cfg)}}))
"""

MEMBRANES = r"""
import json, resource, time, numpy as np
from cryo_data.io import open_project
from cryo_infer.membranes import suppress_membranes
t = open_project({config!r}).tomogram("F0")
vol = np.asarray(t.numpy(), np.float32)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
out = suppress_membranes(vol, t.voxel_size_A)
sec = time.perf_counter() - t0
print(json.dumps({{"seconds": sec, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "after_load_mb": base, "shape": list(vol.shape), "changed": float((out != vol).mean()),
                   "volume_mb": vol.nbytes / 2**20}}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", nargs="*", default=["predict"], choices=["predict", "cli", "post", "membranes"])
    ap.add_argument("--archs", nargs="*", default=["unet_v1", "unet2e3d"])
    ap.add_argument("--runs", type=int, default=3, help="cli: tomograms in the simulated project")
    ap.add_argument("--name", default="infer_memory", help="result file name")
    ap.add_argument("--tta", type=int, default=7, help="number of the 2nd place's TTA views")
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--roi", type=int, nargs=3, default=[64, 192, 192])
    ap.add_argument("--results", default=None)
    ap.add_argument("--tmp", default="/tmp")
    args = ap.parse_args(argv)
    rows, paths = {}, {}
    if "predict" in args.paths:
        zpath = random_zarr_volume(f"{args.tmp}/infer_memory_volume.zarr", args.shape)
        try:
            for a in args.archs:
                rows[a] = run_isolated(CODE.format(arch=a, zpath=zpath, roi=tuple(args.roi), tta=args.tta))
                print(a, f"{rows[a]['peak_rss_mb']:.0f} MB", flush=True)
        finally:
            shutil.rmtree(zpath, ignore_errors=True)
    if "post" in args.paths:
        import numpy as np
        from postprocess_speed import synthetic_probs

        npy = f"{args.tmp}/infer_memory_probs.npy"
        for kind in ("sparse", "dense"):
            if kind == "sparse":
                probs = synthetic_probs(args.shape)
            else:  # an untrained model's near-uniform softmax: about half of the voxels above 0.15
                probs = np.random.default_rng(1).random((5,) + tuple(args.shape), dtype=np.float32)
                probs *= 0.1
                probs += 0.1
            np.save(npy, probs)
            del probs
            try:
                paths[f"post_{kind}"] = run_isolated(POST.format(npy=npy))
            finally:
                Path(npy).unlink(missing_ok=True)
            print(f"post_{kind}", paths[f"post_{kind}"], flush=True)
    if "cli" in args.paths:
        root = f"{args.tmp}/infer_memory_cli"
        try:
            cfg = run_isolated(
                CLI_SETUP.format(root=root, runs=args.runs, shape=tuple(args.shape), arch=args.archs[0], tta=args.tta)
            )["config"]
            paths["cli"] = run_isolated(CLI_RUN.format(config=cfg, root=root, roi=list(args.roi)))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print("cli", paths["cli"], flush=True)
    if "membranes" in args.paths:
        root = f"{args.tmp}/infer_memory_membranes"
        try:
            cfg = run_isolated(MEMBRANES_SETUP.format(root=root, shape=tuple(args.shape)))["config"]
            paths["membranes"] = run_isolated(MEMBRANES.format(config=cfg))  # simulated in another process
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print("membranes", paths["membranes"], flush=True)
    md = header("Inference memory: peak RSS per documented CPU path, full tomograms", "torch", "cryo-infer")
    if paths:
        md += (
            "\nBound: 3 GB (3072 MB) per process. Each path in its own process; peak RSS from getrusage.\n\n"
            "| path | what | peak RSS (MB) | ratio to 3 GB | within 3 GB | seconds |\n|---|---|---|---|---|---|\n"
        )
        if "cli" in paths:
            r = paths["cli"]
            md += (
                f"| `cryo-infer run --roi {' '.join(map(str, args.roi))} --compile` | {args.runs} simulated tomograms "
                f"{tuple(args.shape)}, {args.archs[0]} (random weights), {args.tta} TTA view(s), `post: full` | "
                f"{r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] / 3072:.2f} | {'yes' if r['peak_rss_mb'] <= 3072 else 'no'} | {r['seconds']:.0f} |\n"
            )
        for kind, what in (
            ("sparse", "0.5 % of the voxels above 0.15 (synthetic blobs)"),
            ("dense", "about 50 % above 0.15 (like an untrained model)"),
        ):
            if f"post_{kind}" not in paths:
                continue
            r = paths[f"post_{kind}"]
            md += (
                f"| `probs_to_picks` | one map (5, {', '.join(map(str, args.shape))}) loaded from disk, {what} "
                f"({r['after_load_mb']:.0f} MB after loading), presets `full` and `2nd-place` | {r['peak_rss_mb']:.0f} | "
                f"{r['peak_rss_mb'] / 3072:.2f} | {'yes' if r['peak_rss_mb'] <= 3072 else 'no'} | {r['seconds']:.1f} |\n"
            )
        if "membranes" in paths:
            r = paths["membranes"]
            md += (
                f"| `suppress_membranes` (`--membranes suppress`) | one simulated `foreign` tomogram {tuple(r['shape'])} "
                f"held in memory ({r['volume_mb']:.0f} MB; {r['after_load_mb']:.0f} MB after loading), "
                f"{r['changed']:.1%} of its voxels painted over | {r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] / 3072:.2f} | "
                f"{'yes' if r['peak_rss_mb'] <= 3072 else 'no'} | {r['seconds']:.1f} |\n"
            )
    if rows:
        md += (
            f"\n`predict_volume`: volume {tuple(args.shape)} (zarr on disk), tiles {tuple(args.roi)}, {args.tta} TTA view(s), one view per pass, compile=True, random "
            "weights; each architecture in its own process. The returned float32 probabilities alone take "
            f"{next(iter(rows.values()))['output_mb']:.0f} MB.\n\n| arch | peak RSS (MB) | ratio to 3 GB | within 3 GB | seconds |\n|---|---|---|---|---|\n"
        )
        for a, r in rows.items():
            md += f"| {a} | {r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] / 3072:.2f} | {'yes' if r['peak_rss_mb'] <= 3072 else 'no'} | {r['seconds']:.0f} |\n"
    write_result(args.name, md, {"predict": rows, **paths}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
