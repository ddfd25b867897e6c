"""Post-processing speed: `probs_to_picks` on one full-size probability map against its floor, one cc3d labelling of
each thresholded class map, and against the previous implementation (cc3d.statistics + scipy.ndimage.maximum over the
whole label volume), in one run. Picks and scores must be identical to the previous implementation's.

The maps are synthetic and deterministic: smooth low background (about 0.5 % of the voxels above the threshold,
thousands of small components, like an untrained model's noise) plus a few hundred blobs per class. Preset `full`
(thresholds 0.15, every class at full resolution). Goal: at most 2x the floor.

    python benchmarks/postprocess_speed.py [--shape 184 630 630] [--repeats 3] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402


def synthetic_probs(shape, seed: int = 0) -> np.ndarray:
    """(5, z, y, x) float32 maps: trilinearly upsampled noise (mostly below 0.15) plus cubes of 0.2-1.0."""
    import torch

    rng = np.random.default_rng(seed)
    out = np.empty((5,) + tuple(shape), np.float32)
    coarse = tuple(-(-s // 8) for s in shape)
    for c in range(5):
        small = torch.from_numpy(rng.random(coarse, dtype=np.float32))[None, None]
        p = torch.nn.functional.interpolate(small, scale_factor=8, mode="trilinear", align_corners=False)[0, 0]
        p = p[: shape[0], : shape[1], : shape[2]].numpy()
        np.power(p, 6, out=p)
        p *= 0.3
        for _ in range(300):
            z, y, x = rng.integers([5, 5, 5], np.array(shape) - 5)
            r = int(rng.integers(2, 6))
            sl = (slice(max(0, z - r), z + r), slice(max(0, y - r), y + r), slice(max(0, x - r), x + r))
            p[sl] = np.maximum(p[sl], np.float32(rng.uniform(0.2, 1.0)))
        out[c] = p
    return out


def old_components(p, thr, min_size, connectivity, score):
    """The previous implementation: cc3d.statistics, then scipy.ndimage over the whole volume (sorts it)."""
    import cc3d
    from scipy import ndimage

    labels = cc3d.connected_components(p > thr, connectivity=connectivity)
    stats = cc3d.statistics(labels)
    cent, counts = np.asarray(stats["centroids"])[1:], np.asarray(stats["voxel_counts"])[1:]
    keep = np.flatnonzero(counts > min_size)
    if keep.size == 0:
        return np.zeros((0, 3)), np.zeros(0)
    sc = (ndimage.maximum if score == "max" else ndimage.mean)(p, labels, keep + 1)
    return cent[keep].reshape(-1, 3), np.asarray(sc, np.float64).reshape(-1)


def main(argv=None) -> int:
    import cc3d
    from cryo_infer import postprocess
    from cryo_infer.postprocess import POST_PRESETS, probs_to_picks
    from cryo_infer.predict import SCORED

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--results", default=None)
    ap.add_argument("--skip-old", action="store_true", help="skip the previous implementation (slow)")
    args = ap.parse_args(argv)
    probs = synthetic_probs(args.shape)
    cfg, vs = POST_PRESETS["full"], (10.012, 10.012, 10.012)
    fg = [float((probs[c] > cfg.thresholds[n]).mean()) for c, n in enumerate(SCORED)]

    def floor():
        n = 0
        for c, name in enumerate(SCORED):
            _, k = cc3d.connected_components(
                probs[c] > cfg.thresholds[name], connectivity=cfg.connectivity, return_N=True
            )
            n += k
        return n

    t_floor, t_new = [], []
    for _ in range(args.repeats):  # interleaved, so load changes on the shared machine hit both alike
        t = time.perf_counter()
        n_comp = floor()
        t_floor.append(time.perf_counter() - t)
        t = time.perf_counter()
        new = probs_to_picks(probs, vs, cfg)
        t_new.append(time.perf_counter() - t)
    old, t_old, same = None, float("nan"), None
    if not args.skip_old:
        cur = postprocess._components
        postprocess._components = old_components
        try:
            t = time.perf_counter()
            old = probs_to_picks(probs, vs, cfg)
            t_old = time.perf_counter() - t
        finally:
            postprocess._components = cur
        same = old.equals(new)
    f, n_ = float(np.median(t_floor)), float(np.median(t_new))
    md = header(
        "Post-processing speed: probs_to_picks vs one cc3d labelling per class",
        "cryo-infer",
        "connected-components-3d",
        "numpy",
        "scipy",
    )
    md += (
        f"\nOne synthetic probability map (5, {', '.join(map(str, args.shape))}) float32, preset `full`; "
        f"{n_comp:,} components in all, {100 * np.mean(fg):.2f} % of the voxels above the threshold, {len(new):,} picks "
        f"after the size filters. Medians of {args.repeats} interleaved repeats (the previous implementation: one run).\n\n"
        "| what | seconds | ratio to the floor |\n|---|---|---|\n"
        f"| floor: `cc3d.connected_components(p > thr)` for the 5 classes | {f:.3f} | 1.00 |\n"
        f"| `probs_to_picks` (foreground-only statistics) | {n_:.3f} | **{n_ / f:.2f}** |\n"
        f"| previous: cc3d.statistics + scipy.ndimage.maximum | {t_old:.3f} | {t_old / f:.1f} |\n\n"
        f"Goal: at most 2x the floor. Picks and scores identical to the previous implementation: **{same}**"
        f"{'' if old is None else f' ({len(old):,} vs {len(new):,} rows)'}; speed-up over it: {t_old / n_:.1f}x.\n"
    )
    write_result(
        "postprocess_speed",
        md,
        {
            "floor_s": t_floor,
            "new_s": t_new,
            "old_s": t_old,
            "ratio_to_floor": n_ / f,
            "speedup_vs_old": t_old / n_,
            "identical": same,
            "components": n_comp,
            "picks": len(new),
            "foreground_fraction": fg,
            "shape": args.shape,
        },
        args.results,
    )
    return 0 if same in (True, None) else 1


if __name__ == "__main__":
    raise SystemExit(main())
