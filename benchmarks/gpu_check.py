"""GPU timings that always report within a fixed budget, each figure written the moment it is measured.

Per architecture (random weights: speed does not depend on them), on the SAME strip of --tiles tiles of the recipe's
128 x 384 x 384 tiling (overlap 32) of a 184 x 630 x 630 tomogram, after one untimed warm-up pass on the same shapes:
  1. the peer: the 2nd place's own loop (benchmarks/peer_loop.py: .half() models, float16 input and accumulators,
     the seven views one after another);
  2. ours, each speed preset of cryo_infer.predict.SPEED_PRESETS (exact: float32; fast/compile: fp16 autocast,
     channels-last, 2 tiles x 7 views per pass; whole: one whole-volume tile, timed as one full pass).
Seconds per tomogram = seconds per tile x the full tiling's tile count: EXTRAPOLATED (stated in every row), except
`whole`, which is one measured full pass. Then the 10-model ensemble (2nd-place rows 1, 2, 3, 4, 6, 7, 9, 10, 11, 12)
as the sum of its members' figures, and as one measured full pass with the fastest parity preset if the budget allows.
Each figure also gets the largest probability difference against the exact preset on the strip.

Every figure goes to RESULTS/gpu_check.jsonl (one JSON line each) and RESULTS/gpu_check.md + .json (rewritten) at once;
a measurement that would not fit in what is left of --budget-s is skipped and said so.

    python benchmarks/gpu_check.py --results DIR [--budget-s 300]        # on a GPU
    python benchmarks/gpu_check.py --device cpu --small --results DIR    # a 1-2 minute CPU smoke test, small shapes
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402

ENSEMBLE_ROWS = (1, 2, 3, 4, 6, 7, 9, 10, 11, 12)
GOAL_S = 5.0
GOAL_RATIO = 3.0
ARCHS = ("unet_v1", "unet_v2", "unet_v3", "segresnet", "densevnet", "voxresnet", "voxhrnet", "unet2e3d")
PARITY = ("exact", "fast", "compile")  # presets with the exact preset's tiles (whole changes them)


class Report:
    "Figures measured so far; every add() appends a JSON line and rewrites the md and json at once."

    def __init__(self, results: Path, device_name: str, setup: dict):
        self.results, self.name, self.setup, self.rows, self.notes = Path(results), device_name, setup, [], []
        self.results.mkdir(parents=True, exist_ok=True)
        self.jsonl = self.results / "gpu_check.jsonl"
        self.jsonl.write_text("")
        self.write()

    def add(self, **row) -> None:
        row = {"device": self.name, **row}
        self.rows.append(row)
        with open(self.jsonl, "a") as f:
            f.write(json.dumps(row, default=str) + "\n")
            f.flush()
        self.write()

    def update(self, row: dict) -> None:
        "A row got a figure later (the peer's difference from exact): one more JSON line, marked as an update."
        with open(self.jsonl, "a") as f:
            f.write(json.dumps({**row, "update": True}, default=str) + "\n")
        self.write()

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.notes.append(text)
        self.write()

    def write(self) -> None:
        s = self.setup
        md = header(f"GPU check on {self.name}", "torch", "cryo-infer")
        md += (
            f"\nTomogram {tuple(s['shape'])} (float32 on the host), tiles {tuple(s['roi'])}, overlap "
            f"{tuple(s['overlap'])}: {s['n_tiles']} tiles per tomogram; 7 TTA views; random weights. Per-tile figures "
            f"come from {s['tiles']} timed tiles (one strip, the same for every row) after one untimed warm-up pass; "
            "seconds per tomogram are **extrapolated** (per tile x tile count) unless the row says measured. "
            f"Precision: {s['precision']}. Goal: <= {GOAL_S} s per tomogram for the ensemble, >= {GOAL_RATIO}x the "
            "peer.\n\n| what | arch | s / tile | s / tomogram | how | x faster than the peer | max abs prob diff vs exact "
            "|\n|---|---|---|---|---|---|---|\n"
        )
        for r in self.rows:
            ratio = r.get("ratio_vs_peer")
            diff = r.get("max_abs_diff_vs_exact")
            md += (
                f"| {r['what']} | {r.get('arch', '')} | {_f(r.get('s_per_tile'))} | **{_f(r.get('s_per_tomogram'))}** | "
                f"{r.get('how', '')} | {'' if ratio is None else f'{ratio:.2f}'} | "
                f"{'' if diff is None else f'{diff:.2e}'} |\n"
            )
        if self.notes:
            md += "\n" + "".join(f"- {n}\n" for n in self.notes)
        write_result("gpu_check", md, {"setup": s, "rows": self.rows, "notes": self.notes}, self.results)


def _f(v) -> str:
    return "" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def main(argv=None) -> int:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=None, help="output folder (default: benchmarks/results)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument(
        "--small",
        action="store_true",
        help="small shapes for a CPU smoke test (tomogram 32 x 64 x 64, tiles 16 x 32 x 32)",
    )
    ap.add_argument("--shape", type=int, nargs=3, default=None, help="tomogram (default 184 630 630)")
    ap.add_argument("--roi", type=int, nargs=3, default=None, help="tile (default 128 384 384)")
    ap.add_argument("--tiles", type=int, default=2, help="tiles timed per figure (one strip)")
    ap.add_argument("--budget-s", type=float, default=300.0, help="stop measuring after this many seconds")
    ap.add_argument("--archs", nargs="+", default=list(ARCHS))
    ap.add_argument("--presets", nargs="+", default=None, help="speed presets to time (default: all)")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device; nothing to measure (use --device cpu --small for a smoke test)")
        return 0
    from dataclasses import replace

    from cryo_infer.predict import SPEED_PRESETS, Member, apply_speed_preset, predict_volume
    from cryo_infer.window import RECIPE_WINDOW, tile_grid
    from cryo_models import create_model, seed_table
    from peer_loop import peer_predict

    shape = tuple(args.shape or ((32, 64, 64) if args.small else (184, 630, 630)))
    roi = tuple(args.roi or ((16, 32, 32) if args.small else RECIPE_WINDOW.roi_size))
    overlap = tuple(  # the recipe's 32 (a twelfth of its 384 tiles); a quarter of small tiles
        min(o, r // 4 if args.small else r // 2) for o, r in zip(RECIPE_WINDOW.overlap_vox, roi)
    )
    window0 = replace(RECIPE_WINDOW, roi_size=roi, overlap_vox=overlap)
    n_tiles = len(tile_grid(shape, roi, overlap))
    k = max(1, args.tiles)
    strip_shape = roi[:2] + (k * (roi[2] - overlap[2]) + overlap[2],)  # exactly k tiles along x, for peer and ours
    assert len(tile_grid(strip_shape, roi, overlap)) == k
    rng = np.random.default_rng(0)
    vol = rng.standard_normal(shape).astype(np.float32)
    strip = rng.standard_normal(strip_shape).astype(np.float32)
    gpu = dev.type == "cuda"
    if gpu:
        torch.backends.cudnn.benchmark = True  # fixed shapes: cuDNN picks its fastest 3D convolution once (warm-up)
    name = torch.cuda.get_device_name(dev) if gpu else f"CPU ({args.device}, smoke test: NOT GPU figures)"
    precision = (
        "peer float16 (.half()); exact float32; fast/compile/whole fp16 autocast"
        if gpu
        else "CPU: everything float32 (the peer's float16 and the presets' autocast are inactive)"
    )
    rep = Report(
        Path(args.results or Path(__file__).parent / "results"),
        name,
        {"shape": shape, "roi": roi, "overlap": overlap, "n_tiles": n_tiles, "tiles": k, "precision": precision},
    )
    sync = torch.cuda.synchronize if gpu else (lambda: None)

    def left() -> float:
        return args.budget_s - (time.perf_counter() - t_start)

    def clock(fn):
        sync()
        t = time.perf_counter()
        out = fn()
        sync()
        return time.perf_counter() - t, out

    def ours(members, volume, preset):
        window, kw = apply_speed_preset(window0, preset)
        return predict_volume(members, volume, window, device=dev, progress=False, accumulate_on="auto", **kw)

    per_tile: dict[tuple[str, str], float] = {}  # (arch, what) -> seconds per tile
    exact_maps: dict[str, dict] = {}  # arch -> {"peer"/"exact": probabilities on the strip}
    est = {"tile": 0.0}  # the slowest per-tile figure so far: what the next measurement may cost

    def measure(arch: str, model, whats) -> None:
        "Time `whats` for one architecture on the strip (whole: the full volume), writing each figure at once."
        members, maps = [Member(model)], exact_maps.setdefault(arch, {})  # exact's strip maps stay for compile
        for what in whats:
            whole = what == "whole"
            tpp = 1 if what in ("peer", "whole") else apply_speed_preset(window0, what)[1].get("tiles_per_pass", 1)
            need = est["tile"] * ((n_tiles * 2) if whole else (k + tpp)) * (30 if what == "compile" else 1)
            if left() < need:
                rep.note(f"{arch} {what}: not measured (needs about {need:.0f} s, {left():.0f} s left of the budget)")
                continue
            if what == "peer":
                run = lambda v: peer_predict([model], v, dev, roi, overlap).float().cpu().numpy()  # noqa: E731
            else:
                run = lambda v, what=what: ours(members, v, what)  # noqa: E731
            warm = vol if whole else strip[..., : tpp * (roi[2] - overlap[2]) + overlap[2]]  # one pass of tpp tiles
            try:
                tw, _ = clock(lambda: run(warm))  # warm-up: kernels, cuDNN autotune, compilation
                sec, out = clock(lambda: run(vol if whole else strip))
            except torch.OutOfMemoryError:
                rep.note(f"{arch} {what}: out of memory")
                _empty(dev)
                continue
            finally:
                model.float()  # the peer loop made it .half(); ours starts from the same (rounded) weights
            s_tomo = sec if whole else sec / k * n_tiles
            per_tile[(arch, what)] = s_tomo / n_tiles
            est["tile"] = max(est["tile"], s_tomo / n_tiles)
            if what in ("peer", "exact"):
                maps[what] = out
            peer_s = per_tile.get((arch, "peer"))
            rep.add(
                what="peer (2nd place's loop)" if what == "peer" else f"ours, preset {what}",
                arch=arch,
                s_per_tile=None if whole else sec / k,
                s_per_tomogram=s_tomo,
                how="measured: one full pass" if whole else f"extrapolated from {k} tiles to {n_tiles}",
                ratio_vs_peer=None if (what == "peer" or peer_s is None) else peer_s * n_tiles / s_tomo,
                max_abs_diff_vs_exact=float(np.abs(out - maps["exact"]).max())
                if "exact" in maps and not whole
                else None,
                warmup_s=tw,
            )
            if what == "exact" and "peer" in maps:  # the peer's row gets its difference too
                peer_row = next(r for r in reversed(rep.rows) if r["arch"] == arch and r["what"].startswith("peer"))
                peer_row["max_abs_diff_vs_exact"] = float(np.abs(maps["peer"] - out).max())
                rep.update(peer_row)

    def ensemble_sums(whats) -> str | None:
        "The 10-model ensemble as the sum of its members' figures; returns the fastest parity preset summed."
        best, best_s = None, None
        peer_sum = (
            sum(per_tile[(r["arch"], "peer")] for r in rows) * n_tiles
            if all((r["arch"], "peer") in per_tile for r in rows)
            else None
        )
        for what in whats:
            if not all((r["arch"], what) in per_tile for r in rows):
                rep.note(f"10-model ensemble, {what}: not every member measured, no sum")
                continue
            s = sum(per_tile[(r["arch"], what)] for r in rows) * n_tiles
            rep.add(
                what=f"10-model ensemble, {'peer' if what == 'peer' else 'preset ' + what}: sum of its members",
                arch="+".join(r["arch"] for r in rows),
                s_per_tomogram=s,
                how="sum of the members' figures above",
                ratio_vs_peer=None if (what == "peer" or peer_sum is None) else peer_sum / s,
            )
            if what in PARITY and (best_s is None or s < best_s):
                best, best_s = what, s
        return best

    rows = [r for r in seed_table().iter_rows(named=True) if r["no"] in ENSEMBLE_ROWS]
    chosen = [p for p in SPEED_PRESETS if args.presets is None or p in args.presets]
    unknown = sorted(set(args.presets or ()) - set(SPEED_PRESETS))
    if unknown:
        ap.error(f"unknown speed preset(s) {unknown}; choose from {list(SPEED_PRESETS)}")
    first = ("peer",) + tuple(p for p in chosen if p != "compile")
    # 1. every architecture: the peer and the presets that need no compiling
    for arch in args.archs:
        torch.manual_seed(0)
        measure(arch, create_model(arch).eval().to(dev), first)
        _empty(dev)
    best = ensemble_sums(first)
    # 2. one measured full pass of the ensemble with the fastest parity preset, if it fits
    if best is not None:
        s_best = sum(per_tile[(r["arch"], best)] for r in rows) * n_tiles
        if left() > 1.5 * s_best:
            torch.manual_seed(0)
            members = [Member(create_model(r["arch"]).eval().to(dev)) for r in rows]
            try:
                sec, _ = clock(lambda: ours(members, vol, best))
                rep.add(
                    what=f"10-model ensemble, preset {best}: one full pass",
                    arch="10 members",
                    s_per_tomogram=sec,
                    how="measured: one full pass (the members' shapes warmed up above)",
                )
            except torch.OutOfMemoryError:
                rep.note(f"10-model ensemble, preset {best}: out of memory")
            del members
            _empty(dev)
        else:
            rep.note(
                f"10-model ensemble full pass: not measured ({left():.0f} s left, needs about {1.5 * s_best:.0f} s)"
            )
    # 3. torch.compile, architecture by architecture while the budget lasts
    if "compile" in chosen:
        for arch in args.archs:
            torch.manual_seed(0)
            measure(arch, create_model(arch).eval().to(dev), ("compile",))
            _empty(dev)
        ensemble_sums(("compile",))
    rep.note(f"done in {time.perf_counter() - t_start:.0f} s")
    return 0


def _empty(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.empty_cache()


if __name__ == "__main__":
    raise SystemExit(main())
