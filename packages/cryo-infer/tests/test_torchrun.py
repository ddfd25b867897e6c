"""torchrun with two CPU ranks (gloo): runs are sharded, each run is predicted once, rank 0 merges the submission."""

import re
import subprocess
import sys

import polars as pl
import torch
from cryo_data.simproject import simulate_project
from cryo_infer.ensemble import EnsembleConfig, MemberSpec, save_ensemble
from cryo_infer.window import WindowConfig
from cryo_models import create_model, save_checkpoint


def test_two_ranks_shard_runs(tmp_path):
    cfg = simulate_project(tmp_path / "p", runs=3, shape=(32, 64, 64), seed=5, crowding=2.0, progress=False)
    torch.manual_seed(0)
    save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)).eval(), tmp_path / "m.pt")
    save_ensemble(
        EnsembleConfig(
            members=(MemberSpec(str(tmp_path / "m.pt")),),
            tta=("identity",),
            window=WindowConfig(roi_size=(32, 64, 64)),
            post="full",
        ),
        tmp_path / "ens.yaml",
    )
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "cryo_infer.cli",
        "run",
        "--project",
        str(cfg),
        "--ensemble",
        str(tmp_path / "ens.yaml"),
        "--out",
        str(tmp_path / "out"),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    done = re.findall(r"^rank \d \[\d+/\d+\] (\S+): \d+ picks \(", r.stdout, flags=re.M)  # a log: a line per run
    runs = sorted(p.stem for p in (tmp_path / "out" / "picks").glob("*.csv"))
    assert len(runs) == 3
    assert sorted(done) == runs  # every run predicted exactly once across the two ranks
    assert re.search(r"^rank 1 \[1/", r.stdout, flags=re.M)  # the second rank did work of its own
    sub = pl.read_csv(tmp_path / "out" / "submission.csv")
    per_run = pl.concat([pl.read_csv(tmp_path / "out" / "picks" / f"{n}.csv") for n in runs])
    assert len(sub) == len(per_run)
