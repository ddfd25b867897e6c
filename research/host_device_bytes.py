"""Expected bytes moved between host and GPU per tomogram by `predict_volume`, before and after device accumulation.

Computed from the tile grid (no GPU needed). Before (cryo-infer up to this change): every member re-copied each batch
of TTA views of a tile to the device, and copied its `(C, *roi)` float32 result back per tile. After, with
`accumulate_on="device"` (the GPU default when the accumulator fits in half the free memory): one float32 tile to the
device per tile, one `(5, z, y, x)` float32 map back per tomogram; with `accumulate_on="host"`: one tile up per tile,
one block per member and tile back.

    python research/host_device_bytes.py [--shape 184 630 630] [--results DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "benchmarks")]
from _common import header, write_result  # noqa: E402


def host_device_bytes(
    shape, window, n_members: int, n_views: int, combine: str = "softmax", divisor=(32, 32, 32)
) -> dict:
    """Host->device and device->host bytes per tomogram: {'before', 'host', 'device'} -> (h2d, d2h)."""
    from cryo_infer.window import fit_roi, tile_grid

    roi, padded = fit_roi(shape, window.roi_size, divisor)
    overlap = tuple(min(o, r // 2) for o, r in zip(window.overlap_vox, roi))
    n_tiles = len(tile_grid(padded, roi, overlap))
    tile, n_out = 4 * math.prod(roi), 5 + (combine == "logits")
    block = n_out * tile
    return {
        "n_tiles": n_tiles,
        "roi": roi,
        "before": (n_tiles * n_members * n_views * tile, n_tiles * n_members * block),
        "host": (n_tiles * tile, n_tiles * n_members * block),
        "device": (n_tiles * tile, 4 * 5 * math.prod(shape)),
    }


def main(argv=None) -> int:
    from cryo_infer.window import CPU_WINDOW, RECIPE_WINDOW

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"), help="results folder")
    args = ap.parse_args(argv)
    shape = tuple(args.shape)
    md = header("Host<->device bytes per tomogram, before and after device accumulation", "cryo-infer")
    md += (
        f"\nOne tomogram {shape}, 7 TTA views, softmax averaging, float32; computed from the tile grid. GB = 1e9 bytes.\n\n"
        "| ensemble | tiling | tiles | before: to GPU / to host | after, device accumulator: to GPU / to host | reduction | host accumulator (fallback): to GPU / to host |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    data = {}
    for n_members, label in ((1, "one model"), (10, "10-model 2nd-place ensemble")):
        for wname, win in (("2nd-place (128, 384, 384)", RECIPE_WINDOW), ("CPU (64, 192, 192)", CPU_WINDOW)):
            r = host_device_bytes(shape, win, n_members, 7)
            b, h, d = (sum(r[k]) for k in ("before", "host", "device"))
            g = lambda x: f"{x / 1e9:.2f}"  # noqa: E731
            md += (
                f"| {label} | {wname} | {r['n_tiles']} | {g(r['before'][0])} / {g(r['before'][1])} GB | "
                f"{g(r['device'][0])} / {g(r['device'][1])} GB | **{b / d:.0f}x** | {g(r['host'][0])} / {g(r['host'][1])} GB |\n"
            )
            data[f"{label}, {wname}"] = {**r, "ratio_before_to_device": b / d}
    md += (
        "\nThe device path keeps the `(5, z, y, x)` float32 accumulator (1.46 GB for a full tomogram) and one tile's "
        'blend weights on the GPU; `accumulate_on="auto"` falls back to the host accumulator when that takes more than '
        "half of the free GPU memory. `benchmarks/gpu_check.sh` measures the seconds per tomogram on a GPU.\n"
    )
    write_result("host_device_bytes", md, data, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
