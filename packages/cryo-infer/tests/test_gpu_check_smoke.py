"""benchmarks/gpu_check.py in its CPU smoke-test mode (--device cpu --small): it measures the peer loop and our exact
preset on the same tiles, writes each figure at once (json lines + md), and says what the budget left out."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_gpu_check_small_cpu_writes_figures(tmp_path):
    import gpu_check

    argv = ["--device", "cpu", "--small", "--archs", "unet_v1", "--tiles", "2", "--presets", "exact"]
    assert gpu_check.main(argv + ["--budget-s", "900", "--results", str(tmp_path)]) == 0
    rows = [json.loads(line) for line in (tmp_path / "gpu_check.jsonl").read_text().splitlines()]
    by = {r["what"]: r for r in rows}  # a later line (an update) of the same row wins
    peer, exact = by["peer (2nd place's loop)"], by["ours, preset exact"]
    for r in (peer, exact):
        assert r["arch"] == "unet_v1" and r["s_per_tomogram"] > 0 and "extrapolated from 2 tiles" in r["how"]
        assert abs(r["s_per_tomogram"] - r["s_per_tile"] * 27) < 1e-9 * r["s_per_tomogram"] + 1e-12  # 27 tiles
    assert exact["ratio_vs_peer"] == peer["s_per_tomogram"] / exact["s_per_tomogram"]
    assert peer["max_abs_diff_vs_exact"] < 1e-5  # on CPU (float32) the peer loop computes our exact maps
    data = json.loads((tmp_path / "gpu_check.json").read_text())
    assert data["setup"]["n_tiles"] == 27 and data["setup"]["roi"] == [16, 32, 32]
    assert data["notes"][-1].startswith("done in")
    md = (tmp_path / "gpu_check.md").read_text()
    assert "NOT GPU figures" in md and "| peer (2nd place's loop) | unet_v1 |" in md
    assert "10-model ensemble, exact: not every member measured, no sum" in data["notes"]
    # what the budget leaves out is said, never silently dropped
    assert gpu_check.main(argv[:-2] + ["--budget-s", "0", "--results", str(tmp_path / "none")]) == 0
    data = json.loads((tmp_path / "none" / "gpu_check.json").read_text())
    assert data["rows"] == [] and (tmp_path / "none" / "gpu_check.jsonl").read_text() == ""
    said = {n.split()[1].rstrip(":") for n in data["notes"] if "not measured" in n}
    assert said == {"peer", "exact", "fast", "whole", "compile"}
