"""Peak RSS of `cryo-infer run` on CPU: a full-size tomogram with the defaults, and the memory model behind them.

Paths (`--paths`, each in its own process; peak RSS from getrusage):

- `cli`: the documented command with its CPU defaults, `cryo-infer run --project P --checkpoint M.pt --out O`, over a
  simulated copick project of `--runs` full-size tomograms (184 x 630 x 630), one member of the first `--archs`
  architecture (default unet2e3d, the 2nd place's largest member per voxel) with random weights. No `--roi`, no
  `--max-memory`: the CPU memory rule of `cryo_infer.run` (3 GB) chooses the tile and the views per pass. `--tta N`
  keeps the first N of the 7 TTA views (views are predicted one per pass, so N changes the time, not the memory
  beyond one tile-sized sum; default 1 keeps the run near 10 minutes on 2 cores). Peak RSS of the child process.
- `calibrate`: per architecture, a forward pass on 64 x 192 x 192 tiles with 1 and 2 views: the bytes per tile voxel
  per view that `cryo_infer.run.ACTIVATION_BYTES` states (with 5 % added).
- `post`: `probs_to_picks` alone on a full-size probability map loaded from disk (presets `full` and `2nd-place`).
- `membranes`: `suppress_membranes` (what `--membranes suppress` adds before prediction) on a full-size run of the
  `foreign` family held in memory (its result page: `--name infer_memory_membranes`).

    python benchmarks/infer_memory.py [--paths cli calibrate post membranes] [--archs unet2e3d ...] [--tta 1]
                                      [--shape 184 630 630] [--runs 1] [--results DIR] [--name infer_memory]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, run_isolated, write_result  # noqa: E402

LIMIT_MB = 3072  # 3 GB

CALIBRATE = r"""
import json, resource, torch
from cryo_models import create_model
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
torch.manual_seed(0)
m = create_model({arch!r}).eval()
out = {{}}
with torch.inference_mode():
    m(torch.zeros(1, 1, 16, 32, 32))
    out["base_mb"] = rss()
    for views in (1, 2):
        m(torch.randn(views, 1, 64, 192, 192))
        out[f"bytes_per_voxel_{{views}}"] = (rss() - out["base_mb"]) * 2**20 / (views * 64 * 192 * 192)
print(json.dumps(out))
"""

CLI_SETUP = r"""
import json, torch
from cryo_data.simproject import simulate_project
from cryo_models import create_model, save_checkpoint
cfg = simulate_project({root!r} + "/project", runs={runs}, shape={shape}, seed=0, progress=False, overwrite=True)
torch.manual_seed(0)
save_checkpoint(create_model({arch!r}), {root!r} + "/model.pt", overwrite=True)
print(json.dumps({{"config": str(cfg)}}))
"""

CLI_RUN = r"""
import json, resource, subprocess, sys, time, yaml
t = time.perf_counter()
cmd = ["cryo-infer", "run", "--project", {config!r}, "--checkpoint", {root!r} + "/model.pt", "--out", {root!r} + "/out"]
tta = {tta}
if tta < 7:
    from cryo_infer.tta import RECIPE_TTA
    cmd += ["--tta", ",".join(RECIPE_TTA[:tta])]
r = subprocess.run([sys.executable, "-m", "cryo_infer.cli"] + cmd[1:], capture_output=True, text=True)
if r.returncode: raise SystemExit(r.stderr[-3000:])
w = yaml.safe_load(open({root!r} + "/out/ensemble.yaml"))["window"]
lines = [l for l in r.stdout.splitlines() if l.startswith(("window:", "["))]
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                   "roi_size": w["roi_size"], "views_per_pass": w["views_per_pass"], "log": lines}}))
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


def _yes(mb: float) -> str:
    return "yes" if mb <= LIMIT_MB else "no"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--paths", nargs="*", default=["cli", "calibrate"], choices=["cli", "calibrate", "post", "membranes"]
    )
    ap.add_argument("--archs", nargs="*", default=["unet2e3d"], help="cli: the first; calibrate: each (default: all)")
    ap.add_argument("--runs", type=int, default=1, help="cli: tomograms in the simulated project")
    ap.add_argument("--name", default="infer_memory", help="result file name")
    ap.add_argument("--tta", type=int, default=1, help="cli: the first N of the 2nd place's 7 TTA views")
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--results", default=None)
    ap.add_argument("--tmp", default=None, help="folder for the temporary project (default: the system's)")
    args = ap.parse_args(argv)
    from cryo_infer.run import ACTIVATION_BYTES, MEMORY_RULE, predicted_peak_mb
    from cryo_models.registry import get_spec

    data: dict = {"limit_mb": LIMIT_MB, "shape": args.shape}
    md = header("Inference memory on CPU: peak RSS of `cryo-infer run` with its defaults", "torch", "cryo-infer")
    md += (
        f"\nBound: 3 GB ({LIMIT_MB} MB) of peak resident memory per process (getrusage). Memory rule: {MEMORY_RULE}.\n"
    )
    if "cli" in args.paths:
        arch = args.archs[0]
        root = tempfile.mkdtemp(prefix="infer_memory_", dir=args.tmp)
        try:
            cfg = run_isolated(CLI_SETUP.format(root=root, runs=args.runs, shape=tuple(args.shape), arch=arch))[
                "config"
            ]
            r = run_isolated(CLI_RUN.format(config=cfg, root=root, tta=args.tta), timeout=4 * 3600)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        div = get_spec(arch).divisor
        r["predicted_mb"] = predicted_peak_mb(args.shape, r["roi_size"], r["views_per_pass"], [arch], 5, div)
        data["cli"] = {"arch": arch, "runs": args.runs, "tta_views": args.tta, **r}
        print("cli", r, flush=True)
        md += (
            f"\n## `cryo-infer run --project P --checkpoint {arch}.pt --out O` (CPU defaults)\n\n"
            f"{args.runs} simulated tomogram(s) {tuple(args.shape)}, one {arch} member with random weights, "
            f"{args.tta} of the 7 TTA views (`--tta` with the first {args.tta}; views go one per pass, so the 7-view "
            "default adds one tile-sized sum, not a tile per view), post-processing `2nd-place`. The window was chosen "
            "by the CPU memory rule.\n\n"
            "| tile (z, y, x) | views per pass | predicted peak (MB) | measured peak RSS (MB) | ratio to 3 GB "
            "| within 3 GB | seconds |\n|---|---|---|---|---|---|---|\n"
            f"| {' x '.join(map(str, r['roi_size']))} | {r['views_per_pass']} | {r['predicted_mb']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] / LIMIT_MB:.2f} | {_yes(r['peak_rss_mb'])} | {r['seconds']:.0f} |\n"
            "\nIts log (stdout is not a terminal: one line per run):\n\n```\n" + "\n".join(r["log"]) + "\n```\n"
        )
    if "calibrate" in args.paths:
        archs = args.archs if "--archs" in (argv or sys.argv) else list(ACTIVATION_BYTES)
        rows = {a: run_isolated(CALIBRATE.format(arch=a)) for a in archs}
        data["calibrate"] = rows
        md += (
            "\n## Calibration: bytes per tile voxel per view of one forward pass (float32, eager, 64 x 192 x 192)\n\n"
            "| arch | base RSS (MB) | 1 view | 2 views | `ACTIVATION_BYTES` (max + 5 %) |\n|---|---|---|---|---|\n"
        )
        for a, r in rows.items():
            md += (
                f"| {a} | {r['base_mb']:.0f} | {r['bytes_per_voxel_1']:.0f} | {r['bytes_per_voxel_2']:.0f} | "
                f"{ACTIVATION_BYTES.get(a, '-')} |\n"
            )
            print(a, r, flush=True)
    if "post" in args.paths:
        import numpy as np

        npy = str(Path(tempfile.mkdtemp(dir=args.tmp)) / "probs.npy")
        probs = np.random.default_rng(1).random((5,) + tuple(args.shape), dtype=np.float32)
        probs *= 0.1
        probs += 0.1  # an untrained model's near-uniform softmax: about half of the voxels above 0.15
        np.save(npy, probs)
        del probs
        try:
            r = run_isolated(POST.format(npy=npy))
        finally:
            shutil.rmtree(Path(npy).parent, ignore_errors=True)
        data["post"] = r
        md += (
            "\n## `probs_to_picks` alone (presets `full` and `2nd-place`)\n\n"
            f"One map (5, {', '.join(map(str, args.shape))}) loaded from disk, about half of the voxels above 0.15 "
            f"({r['after_load_mb']:.0f} MB after loading): peak {r['peak_rss_mb']:.0f} MB ({_yes(r['peak_rss_mb'])} "
            f"within 3 GB), {r['seconds']:.0f} s.\n"
        )
    if "membranes" in args.paths:
        root = tempfile.mkdtemp(prefix="infer_memory_membranes_", dir=args.tmp)
        try:
            cfg = run_isolated(MEMBRANES_SETUP.format(root=root + "/p", shape=tuple(args.shape)))["config"]
            r = run_isolated(MEMBRANES.format(config=cfg))  # simulated in another process
        finally:
            shutil.rmtree(root, ignore_errors=True)
        data["membranes"] = r
        md += (
            f"\n## `suppress_membranes` (`--membranes suppress`)\n\nOne simulated `foreign` tomogram {tuple(r['shape'])} "
            f"held in memory ({r['volume_mb']:.0f} MB; {r['after_load_mb']:.0f} MB after loading), {r['changed']:.1%} of "
            f"its voxels painted over: peak {r['peak_rss_mb']:.0f} MB ({_yes(r['peak_rss_mb'])} within 3 GB), "
            f"{r['seconds']:.0f} s.\n"
        )
    write_result(args.name, md, data, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
