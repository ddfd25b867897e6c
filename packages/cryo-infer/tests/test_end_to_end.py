"""End to end on tiny simulated projects: an oracle model must score 1.0 through every output path; runs resume."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import polars as pl
import pytest
import torch
from cryo_data.io import open_project
from cryo_data.labels import paint_spheres
from cryo_data.picks import read_picks
from cryo_data.simproject import simulate_project
from cryo_infer.ensemble import EnsembleConfig, MemberSpec, save_ensemble
from cryo_infer.predict import Member
from cryo_infer.run import run_batch
from cryo_infer.window import WindowConfig
from cryo_metric import LAYOUT_7, score
from cryo_models import create_model, save_checkpoint
from torch import nn


class Oracle(nn.Module):
    """Reads the label painted into the 'oracle' tomogram and returns its one-hot as logits."""

    cryo_classes = LAYOUT_7

    def forward(self, x):
        return 20.0 * torch.nn.functional.one_hot(x[:, 0].round().long().clamp(0, 6), 7).permute(0, 4, 1, 2, 3).float()


@pytest.fixture(scope="module")
def oracle_project(tmp_path_factory):
    d = tmp_path_factory.mktemp("oracle")
    cfg = simulate_project(d / "p", runs=2, shape=(48, 96, 96), seed=11, crowding=10.0, progress=False)
    prj = open_project(cfg)
    for run in prj.runs():
        t = prj.tomogram(run)
        truth = read_picks(prj, [run])
        lab = paint_spheres(truth, t.shape, t.voxel_size_A, "official")
        prj.run(run).voxel_spacings[0].new_tomogram("oracle").from_numpy(lab.astype(np.float32))
    return prj


def solution(prj):
    return read_picks(prj).select("run", "particle_type", "x", "y", "z")


def test_oracle_scores_one_through_every_output(oracle_project, tmp_path):
    prj = oracle_project
    sol = solution(prj).filter(pl.col("particle_type") != "beta-amylase")
    ens = EnsembleConfig(
        members=(MemberSpec("oracle-in-memory"),),
        window=WindowConfig(roi_size=(32, 64, 64), overlap_vox=(8, 16, 16), normalization="none"),
        post="full",
    )
    picks = run_batch(
        prj,
        ens,
        tmp_path / "out",
        tomo_type="oracle",
        user="cryo",
        session="1",
        members=[Member(Oracle())],
        progress=False,
    )
    assert len(picks) > 10
    as_table = picks
    assert score(sol, as_table).score == pytest.approx(score(sol, sol).score)
    assert score(sol, as_table).score > 0.99 * 6 / 7  # beta-amylase (weight 0) is never predicted
    # the Kaggle submission CSV
    assert score(sol, tmp_path / "out" / "submission.csv").score == score(sol, as_table).score
    # copick picks, read back
    back = read_picks(prj, user="cryo", session="1")
    assert score(sol, back).score == score(sol, as_table).score
    assert back["score"].min() > 0.99
    # per-class: every scored class perfect
    pc = score(sol, as_table).per_class.filter(pl.col("particle_type") != "beta-amylase")
    assert pc.filter(pl.col("tp") > 0)["fbeta"].min() == 1.0


def test_resume_skips_finished_runs_and_refuses_overwrite(oracle_project, tmp_path):
    prj = oracle_project
    ens = EnsembleConfig(
        members=(MemberSpec("x"),),
        window=WindowConfig(roi_size=(32, 64, 64), normalization="none"),
        tta=("identity",),
        post="full",
    )
    out = tmp_path / "out"
    run_batch(prj, ens, out, runs=[prj.runs()[0]], tomo_type="oracle", members=[Member(Oracle())], progress=False)
    first = out / "picks" / f"{prj.runs()[0]}.csv"
    m0 = first.stat().st_mtime_ns
    time.sleep(0.01)
    allp = run_batch(prj, ens, out, tomo_type="oracle", members=[Member(Oracle())], progress=False)
    assert first.stat().st_mtime_ns == m0  # finished run not redone
    assert set(allp["run"].unique()) == set(prj.runs())
    other = EnsembleConfig(members=(MemberSpec("y"),), window=ens.window, tta=("identity",), post="full")
    with pytest.raises(FileExistsError, match="different inputs"):
        run_batch(prj, other, out, tomo_type="oracle", members=[Member(Oracle())], progress=False)


def test_cli_kill_and_resume(tmp_path):
    cfg = simulate_project(tmp_path / "p", runs=3, shape=(64, 128, 128), seed=2, crowding=2.0, progress=False)
    m = create_model("unet_v1", channels=(8, 16, 16, 16))
    save_checkpoint(m, tmp_path / "m.pt")
    save_ensemble(
        EnsembleConfig(members=(MemberSpec(str(tmp_path / "m.pt")),), window=WindowConfig(roi_size=(32, 64, 64))),
        tmp_path / "ens.yaml",
    )
    cmd = [
        sys.executable,
        "-m",
        "cryo_infer.cli",
        "run",
        "--project",
        str(cfg),
        "--ensemble",
        str(tmp_path / "ens.yaml"),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    ]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    picks_dir = tmp_path / "out" / "picks"
    t0 = time.time()
    while time.time() - t0 < 300 and not (picks_dir.exists() and any(picks_dir.glob("*.csv"))):
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    done = sorted(picks_dir.glob("*.csv"))
    assert 1 <= len(done) <= 3
    mtimes = {f.name: f.stat().st_mtime_ns for f in done}
    for f in done:  # finished files are complete CSVs
        pl.read_csv(f)
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(list(picks_dir.glob("*.csv"))) == 3
    assert all((picks_dir / n).stat().st_mtime_ns == t for n, t in mtimes.items())
    assert pl.read_csv(tmp_path / "out" / "submission.csv").columns == [
        "id",
        "experiment",
        "particle_type",
        "x",
        "y",
        "z",
    ]
