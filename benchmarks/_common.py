"""Shared helpers for the benchmarks: machine description and result files."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]


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


def portable(arg: str) -> str:
    """A command-line argument as a result page shows it: a path in the repository relative to its root, any other
    absolute path as `<path>/NAME` (no temporary folders or home directories in committed results)."""
    head, sep, val = arg.rpartition("=") if "=" in arg else ("", "", arg)
    if not val.startswith(("/", "~")):
        return arg
    p = Path(val).expanduser().resolve()
    try:
        new = p.relative_to(ROOT).as_posix() or "."
    except ValueError:
        new = f"<path>/{p.name}" if p.name else "<path>"
    return f"{head}{sep}{new}"


def command_line(argv: list[str] | None = None) -> str:
    """The command that made a result, repeatable from the repository root: the script relative to the root, other
    paths made portable, and `--results DIR` left out (the page itself says where the results are)."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve() if argv and argv[0].endswith(".py") else None
    out = [Path(sys.executable).name]
    if script is not None:
        try:
            out.append(script.relative_to(ROOT).as_posix())
        except ValueError:
            out.append(script.name)
        argv = argv[1:]
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--results":
            skip = True
            continue
        if a.startswith("--results="):
            continue
        a = portable(a)
        out.append(f'"{a}"' if any(ch.isspace() for ch in a) else a)
    return " ".join(out)


def header(title: str, *pkgs: str) -> str:
    v = ", ".join(f"{k} {x}" for k, x in versions(*pkgs).items())
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"# {title}\n\n- date: {now}\n- machine: {machine()}\n- versions: {v}\n- command: `{command_line()}`\n"


_ABS_PATH = re.compile(r"(?<![\w.<>/-])(/[\w.+@%-]+(?:/[\w.+@%=-]+)*)")


def scrub(text: str) -> str:
    """`text` with every absolute path made portable: inside the repository relative to its root, elsewhere (a
    temporary folder, a home directory) `<path>/NAME`; the system's own folders (/usr, /proc, /dev) are kept."""

    def one(m: re.Match) -> str:
        path = m.group(1)
        if path.startswith(("/usr/", "/proc/", "/dev/", "/sys/", "/etc/", "/opt/")) or path.count("/") < 2:
            return path
        return portable(path)

    return _ABS_PATH.sub(one, text)


def write_result(name: str, text: str, data: dict | None = None, results_dir: Path | None = None) -> Path:
    d = Path(results_dir or RESULTS)
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{name}.md"
    text = scrub(text)
    tmp = p.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, p)
    if data is not None:
        (d / f"{name}.json").write_text(scrub(json.dumps(data, indent=2, default=str)))
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
