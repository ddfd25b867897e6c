"""Shared helpers for the benchmarks: machine description and result files."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def versions(*pkgs: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in pkgs:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = ""
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f", GPU: {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores ({cpu}){gpu}"


def header(title: str, *pkgs: str) -> str:
    v = ", ".join(f"{k} {x}" for k, x in versions(*pkgs).items())
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"# {title}\n\n- date: {now}\n- machine: {machine()}\n- versions: {v}\n- command: `{' '.join([Path(sys.executable).name] + sys.argv)}`\n"


def write_result(name: str, text: str, data: dict | None = None, results_dir: Path | None = None) -> Path:
    d = Path(results_dir or RESULTS)
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{name}.md"
    tmp = p.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, p)
    if data is not None:
        (d / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))
    print(text)
    return p


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(code: str, timeout: int = 3600) -> dict:
    """Run Python `code` in a fresh process; it must print one JSON line last. Returns that JSON."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"isolated run failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def random_zarr_volume(path: str, shape, seed: int = 0, chunk: int = 64) -> str:
    """Write a float32 standard-normal (z, y, x) volume as a zarr array on disk, slab by slab; returns the path."""
    import numpy as np
    import zarr

    z = zarr.open(path, mode="w", shape=tuple(shape), chunks=(chunk,) * 3, dtype="float32")
    rng = np.random.default_rng(seed)
    for z0 in range(0, shape[0], 16):
        z[z0 : z0 + 16] = rng.standard_normal((min(16, shape[0] - z0),) + tuple(shape[1:])).astype(np.float32)
    return path
