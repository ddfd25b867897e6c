"""Forward latency and peak memory of every architecture.

CPU: 1x1x64x128x128, float32, eval mode, each architecture in its own process (so peak RSS is its own).
GPU (skipped without CUDA): 1x1x128x384x384 in fp16 and bf16, with and without channels_last_3d and torch.compile,
with the fraction of the card's peak FLOP/s reached (FLOPs counted by torch's FlopCounterMode).

    python benchmarks/models_speed.py [--repeats 3] [--results DIR] [--skip-gpu]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, run_isolated, write_result  # noqa: E402

NAMES = ["unet_v1", "unet_v2", "unet_v3", "segresnet", "densevnet", "voxresnet", "voxhrnet", "unet2e3d"]
CPU_SHAPE = (1, 1, 64, 128, 128)
GPU_SHAPE = (1, 1, 128, 384, 384)

CPU_CODE = """
import json, time, resource, torch
from torch.utils.flop_counter import FlopCounterMode
from cryo_models import create_model
torch.manual_seed(0)
m = create_model({name!r}).eval()
x = torch.randn({shape})
with torch.no_grad():
    with FlopCounterMode(display=False) as fc: m(x)
    m(x)
    ts = []
    for _ in range({repeats}):
        t = time.perf_counter(); m(x); ts.append(time.perf_counter() - t)
print(json.dumps({{"seconds": min(ts), "median": sorted(ts)[len(ts)//2], "flops": fc.get_total_flops(),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "params": sum(p.numel() for p in m.parameters())}}))
"""

# dense fp16/bf16 tensor-core peaks (TFLOP/s, without sparsity) of common cards
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "T4": 65.0, "A10": 125.0, "V100": 125.0}


def gpu_section(repeats: int) -> tuple[list[dict], str]:
    import torch

    if not torch.cuda.is_available():
        return [], "GPU section skipped: no CUDA device.\n"
    from cryo_models import create_model
    from torch.utils.flop_counter import FlopCounterMode

    name = torch.cuda.get_device_name(0)
    peak = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    rows = []
    for arch in NAMES:
        for dtype in (torch.float16, torch.bfloat16):
            for cl in (False, True):
                for comp in (False, True):
                    m = create_model(arch).eval().cuda()
                    x = torch.randn(GPU_SHAPE, device="cuda")
                    if cl:
                        m = m.to(memory_format=torch.channels_last_3d)
                        x = x.to(memory_format=torch.channels_last_3d)
                    f = torch.compile(m) if comp else m
                    try:
                        with torch.no_grad(), torch.autocast("cuda", dtype=dtype):
                            with FlopCounterMode(display=False) as fc:
                                m(x)
                            for _ in range(2):
                                f(x)
                            torch.cuda.synchronize()
                            ev = [torch.cuda.Event(enable_timing=True) for _ in range(2)]
                            ev[0].record()
                            for _ in range(repeats):
                                f(x)
                            ev[1].record()
                            torch.cuda.synchronize()
                        s = ev[0].elapsed_time(ev[1]) / 1000 / repeats
                        tf = fc.get_total_flops() / s / 1e12
                        rows.append(
                            dict(
                                arch=arch,
                                dtype=str(dtype).split(".")[-1],
                                channels_last=cl,
                                compile=comp,
                                seconds=s,
                                tflops=tf,
                                peak_fraction=(tf / peak if peak else None),
                            )
                        )
                    except Exception as e:  # record, keep going
                        rows.append(
                            dict(arch=arch, dtype=str(dtype), channels_last=cl, compile=comp, error=str(e)[:200])
                        )
                    del m, f
                    torch.cuda.empty_cache()
    lines = [
        f"## GPU: {name} (peak {peak} TFLOP/s dense fp16/bf16), input {GPU_SHAPE}\n",
        "| arch | dtype | channels_last_3d | compile | ms | TFLOP/s | fraction of peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['arch']} | {r['dtype']} | {r['channels_last']} | {r['compile']} | error: {r['error']} | | |"
            )
        else:
            pf = f"{r['peak_fraction']:.3f}" if r["peak_fraction"] is not None else "n/a"
            lines.append(
                f"| {r['arch']} | {r['dtype']} | {r['channels_last']} | {r['compile']} | {r['seconds'] * 1e3:.1f} | {r['tflops']:.1f} | {pf} |"
            )
    return rows, "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--results", default=None)
    ap.add_argument("--skip-gpu", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for name in NAMES:
        r = run_isolated(CPU_CODE.format(name=name, shape=CPU_SHAPE, repeats=args.repeats))
        r["arch"] = name
        rows.append(r)
        print(f"{name}: {r['seconds']:.3f} s, {r['peak_rss_mb']:.0f} MB", flush=True)
    md = header("Model forward speed", "torch", "monai", "cryo-models")
    md += f"\n## CPU, input {CPU_SHAPE}, float32, eval, best of {args.repeats} (each model in its own process)\n\n"
    md += "| arch | params | GFLOP | seconds (best) | seconds (median) | GFLOP/s | peak RSS (MB) |\n|---|---|---|---|---|---|---|\n"
    for r in rows:
        md += (
            f"| {r['arch']} | {r['params']:,} | {r['flops'] / 1e9:.1f} | {r['seconds']:.3f} | {r['median']:.3f} | "
            f"{r['flops'] / 1e9 / r['seconds']:.1f} | {r['peak_rss_mb']:.0f} |\n"
        )
    gpu_rows = []
    if not args.skip_gpu:
        gpu_rows, gmd = gpu_section(args.repeats)
        md += "\n" + gmd
    write_result("models_speed", md, {"cpu": rows, "gpu": gpu_rows}, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
