"""I/O and the simulator on tiny volumes: copick and Kaggle layouts, CLI, bad input, determinism."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cryo_data.io import open_project
from cryo_data.picks import read_picks, write_picks, write_submission_csv
from cryo_data.simproject import simulate_project

SHARED = Path(__file__).resolve().parents[3].parent / "shared"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    return simulate_project(
        d / "p", runs=2, shape=(32, 64, 64), seed=1, tomo_types=("denoised", "wbp"), crowding=8.0, progress=False
    )


def test_simulated_project_opens_with_plain_copick(project):
    import copick

    root = copick.from_file(str(project))
    assert sorted(r.name for r in root.runs) == ["TS_1", "TS_2"]
    vol = root.get_run("TS_1").voxel_spacings[0].get_tomograms("denoised")[0].numpy()
    assert vol.shape == (32, 64, 64) and np.isfinite(vol).all()
    picks = root.get_run("TS_1").get_picks(user_id="curation", session_id="0")
    assert sum(len(p.points) for p in picks) > 0


def test_patch_read_is_lazy(project):
    t = open_project(project).tomogram("TS_1")
    assert hasattr(t.array, "chunks")  # zarr-backed, not an ndarray
    block = t.read(slice(0, 4), slice(0, 8), slice(0, 8))
    assert block.shape == (4, 8, 8) and block.dtype == np.float32


def test_kaggle_layout_with_and_without_prefix(tmp_path):
    kg = simulate_project(tmp_path / "k", runs=1, shape=(32, 64, 64), seed=3, crowding=8.0, kaggle=True, progress=False)
    picks_dir = kg / "overlay" / "ExperimentRuns" / "TS_3" / "Picks"
    # one file already carries the prefix, as in some copies of the data
    (picks_dir / "ribosome.json").rename(picks_dir / "curation_0_ribosome.json")
    prj = open_project(kg, work_dir=tmp_path / "work")
    pk = read_picks(prj)
    n_json = sum(len(json.loads(f.read_text())["points"]) for f in picks_dir.glob("*.json"))
    assert len(pk) == n_json > 0
    assert set(f.name for f in picks_dir.iterdir()) == {
        "curation_0_ribosome.json",
        "apo-ferritin.json",
        "beta-amylase.json",
        "beta-galactosidase.json",
        "thyroglobulin.json",
        "virus-like-particle.json",
    }
    # a submission round-trip and never-overwrite
    write_submission_csv(pk, tmp_path / "sub.csv")
    with pytest.raises(FileExistsError):
        write_submission_csv(pk, tmp_path / "sub.csv")


def test_nan_voxels_name_the_run(project, tmp_path):
    import zarr

    prj = open_project(project)
    t = prj.tomogram("TS_2", "wbp")
    arr = zarr.open(prj.run("TS_2").voxel_spacings[0].get_tomograms("wbp")[0].zarr(), mode="r+")["0"]
    arr[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="TS_2"):
        t.numpy()


def test_picks_outside_volume_warn():
    from cryo_data.labels import paint_spheres

    pk = pl.DataFrame({"particle_type": ["ribosome"] * 2, "x": [10.0, 1e5], "y": [10.0, 10.0], "z": [10.0, 10.0]})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        paint_spheres(pk, (8, 8, 8), 10.0)
    assert any("1 pick(s) lie outside" in str(x.message) for x in w)


def test_malformed_config_names_the_file(tmp_path):
    (tmp_path / "copick.json").write_text('{"config_type": "filesystem", "pickable_objects": 3}')
    with pytest.raises(ValueError, match="copick.json"):
        open_project(tmp_path / "copick.json")


def test_cli_simulate_subprocess(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cryo_data.cli",
            "simulate",
            "--out",
            str(tmp_path / "s"),
            "--n-runs",
            "1",
            "--shape",
            "32",
            "64",
            "64",
            "--seed",
            "7",
            "--tomo-type",
            "denoised",
            "isonetcorrected",
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # the current spelling: no deprecation warning, no progress bar with --quiet
    assert open_project(tmp_path / "s").tomo_types("TS_7") == ["denoised", "isonetcorrected"]
    r = subprocess.run(
        [sys.executable, "-m", "cryo_data.cli", "info", "--project", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "nope" in r.stderr


@pytest.mark.skipif(not (SHARED / "data").exists(), reason="../shared/data is absent (a user's clone has no ../shared)")
def test_templates_and_real_layout(tmp_path):
    lay = pl.read_csv(SHARED / "data" / "czii_train_picks.csv").filter(pl.col("experiment") == "TS_5_4")
    # a small crop of the real layout keeps the test fast
    lay = lay.filter((pl.col("x") < 1200) & (pl.col("y") < 1200) & (pl.col("z") < 900))
    cfg = simulate_project(
        tmp_path / "t",
        runs=1,
        shape=(96, 128, 128),
        templates=SHARED / "data" / "templates",
        layout=lay,
        progress=False,
    )
    prj = open_project(cfg)
    assert prj.runs() == ["TS_5_4"]
    assert len(read_picks(prj)) == len(lay)


def test_write_picks_refuses_to_overwrite(project):
    prj = open_project(project)
    pk = read_picks(prj, ["TS_1"])
    with pytest.raises(FileExistsError):
        write_picks(prj, pk, "curation", "0")
