"""Training on a tiny simulated project: the loss falls; a killed run resumes to the same weights and metrics."""

import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest
import torch
from cryo_data.io import open_project
from cryo_data.simproject import simulate_project
from cryo_models import load_checkpoint
from cryo_train.config import TrainConfig, apply_overrides, save_config
from cryo_train.fit import fit

TINY = [
    "data.roi_size=[32,64,64]",
    "data.tomo_types=[denoised]",
    "data.samples_per_volume=4",
    "model.overrides={channels: [8, 16, 16, 16]}",
    "optim.lr=0.003",
    "val.post=full",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    return simulate_project(d / "p", runs=3, shape=(32, 96, 96), seed=1, crowding=10.0, progress=False)


def test_tiny_training_loss_falls(project, tmp_path):
    cfg = apply_overrides(TrainConfig(), TINY + ["trainer.max_epochs=4"])
    r = fit(cfg, open_project(project), ["TS_3"], tmp_path / "out", progress=False)
    loss = r.metrics["train_loss_epoch"].to_list()
    assert loss[-1] < 0.7 * loss[0], loss
    assert (tmp_path / "out" / "curves.png").exists() and (tmp_path / "out" / "best.pt").exists()
    m = load_checkpoint(tmp_path / "out" / "best.pt")  # cryo-infer loads it with nothing else
    assert m.cryo_info.arch == "unet_v1" and list(m.cryo_info.constructor["channels"]) == [8, 16, 16, 16]
    assert m.cryo_info.extra["valid_runs"] == ["TS_3"]
    lc = load_checkpoint(r.best_checkpoint)  # the Lightning checkpoint too
    assert lc.cryo_info.source_format == "lightning"
    with pytest.raises(ValueError, match="pass --overwrite"):  # an earlier fit is never replaced silently
        fit(cfg, open_project(project), ["TS_3"], tmp_path / "out", progress=False)


def _cli(project, cfg_path, out, epochs, resume=False):
    return [
        sys.executable,
        "-m",
        "cryo_train.cli",
        "fit",
        "--recipe",
        str(cfg_path),
        "--project",
        str(project),
        "--valid-run",
        "TS_3",
        "--out",
        str(out),
        "--max-epochs",
        str(epochs),
        "--quiet",
    ] + (["--resume"] if resume else [])


def test_killed_run_resumes_to_identical_weights(project, tmp_path):
    cfg = apply_overrides(
        TrainConfig(), TINY + ["data.samples_per_volume=12", "model.name=unet_v2"]
    )  # unet_v2: dropout 0.3
    save_config(cfg, tmp_path / "cfg.yaml")
    epochs = 4
    r = subprocess.run(_cli(project, tmp_path / "cfg.yaml", tmp_path / "ref", epochs), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    p = subprocess.Popen(
        _cli(project, tmp_path / "cfg.yaml", tmp_path / "killed", epochs),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    last = tmp_path / "killed" / "checkpoints" / "last.ckpt"
    t0 = time.time()
    while time.time() - t0 < 600 and not last.exists():  # a wait, not a speed check: busy machines are slow
        time.sleep(0.05)
    time.sleep(0.5)  # into the next epoch
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert last.exists()
    killed_epoch = torch.load(last, weights_only=True)["epoch"]
    assert killed_epoch < epochs - 1, "the run finished before it was killed; the test needs a slower epoch"
    r = subprocess.run(
        _cli(project, tmp_path / "cfg.yaml", tmp_path / "killed", epochs, resume=True), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr[-2000:]
    a = torch.load(tmp_path / "ref" / "checkpoints" / "last.ckpt", weights_only=True)
    b = torch.load(tmp_path / "killed" / "checkpoints" / "last.ckpt", weights_only=True)
    assert a["epoch"] == b["epoch"] == epochs - 1
    for k in a["state_dict"]:
        assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k
    assert pl.read_csv(tmp_path / "ref" / "oof_picks.csv").equals(pl.read_csv(tmp_path / "killed" / "oof_picks.csv"))
    # metrics.csv appended on resume: every epoch's training loss is there once, as in the uninterrupted run
    ref = pl.read_csv(tmp_path / "ref" / "csv" / "version_0" / "metrics.csv", infer_schema_length=None)
    got = pl.read_csv(tmp_path / "killed" / "csv" / "version_0" / "metrics.csv", infer_schema_length=None)
    per_epoch = lambda df: df.filter(pl.col("train_loss_epoch").is_not_null())["epoch"].to_list()
    assert per_epoch(got) == per_epoch(ref) == list(range(epochs))


def test_cli_errors(project, tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cryo_train.cli",
            "fit",
            "--recipe",
            "nope",
            "--project",
            str(project),
            "--valid-run",
            "TS_3",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "shipped" in r.stderr
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cryo_train.cli",
            "fit",
            "--recipe",
            "unet_v1",
            "--project",
            str(project),
            "--valid-run",
            "TS_9",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "TS_1" in r.stderr


def test_cross_validation_and_threshold_tuning(project, tmp_path):
    from cryo_train.fit import cross_validate, tune_from_cv, write_thresholds

    cfg = apply_overrides(TrainConfig(), TINY + ["trainer.max_epochs=2"])
    prj = open_project(project)
    table = cross_validate(cfg, prj, tmp_path / "cv", folds=["TS_2", "TS_3"], progress=False)
    assert table["valid_run"].to_list() == ["TS_2", "TS_3"]
    assert (tmp_path / "cv" / "cv_summary.csv").exists()
    with pytest.raises(ValueError, match="pass --overwrite"):
        cross_validate(cfg, prj, tmp_path / "cv", folds=["TS_2"], progress=False)
    again = cross_validate(
        cfg, prj, tmp_path / "cv", folds=["TS_2", "TS_3"], resume=True, progress=False
    )  # finished folds skipped
    assert again["best_fbeta"].to_list() == table["best_fbeta"].to_list()
    thr, sc = tune_from_cv(tmp_path / "cv", prj)
    assert thr and all(0.0 < v <= 1.0 for v in thr.values()) and 0.0 <= sc <= 1.0
    (tmp_path / "ens.yaml").write_text("members: [m.pt]\npost: full\n")
    write_thresholds(tmp_path / "ens.yaml", thr)
    from cryo_infer.ensemble import load_ensemble

    e = load_ensemble(tmp_path / "ens.yaml")
    assert e.post.thresholds[next(iter(thr))] == pytest.approx(next(iter(thr.values())))
