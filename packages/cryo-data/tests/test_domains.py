"""Families of simulated data: what each run draws, provenance, real templates and layouts, bad input, crashes."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from cryo_data import domains
from cryo_data.domains import FAMILIES, Family, RunSpec, draw_run, simulate_families, simulate_family_run
from cryo_data.io import open_project
from cryo_data.picks import read_picks
from cryo_metric.score import picks_table

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
SMALL = (320.0, 960.0, 960.0)  # run extent (z, y, x), Angstrom


def test_draws_cover_the_documented_ranges():
    fam = FAMILIES["randomised"]
    draws = [draw_run(fam, np.random.default_rng(s)) for s in range(60)]
    vs = [d.config.voxel_size_A[0] for d in draws]
    assert fam.voxel_size_A[0] <= min(vs) and max(vs) <= fam.voxel_size_A[1] and max(vs) - min(vs) > 1.0
    assert {d.config.polarity for d in draws} == {1, -1}
    assert {d.shapes for d in draws} == {"built-in", "blobs"}  # no template folder: templates are not drawn
    stds = [d.config.scale["denoised"] for d in draws]
    assert max(stds) / min(stds) > 100  # absolute intensity varies by orders of magnitude
    for d in draws:  # the run's extent is kept whatever its voxel size
        assert np.allclose(np.asarray(d.config.shape) * d.config.voxel_size_A[0], (641.0, 2563.0, 2563.0), atol=11)


def test_foreign_has_what_the_default_never_draws():
    rnd, far = FAMILIES["randomised"], FAMILIES["foreign"]
    assert set(far.noise_models) - set(rnd.noise_models) == {"pink"}
    assert {"membrane", "gold"} <= set(far.distractor_kinds) - set(rnd.distractor_kinds)


def test_project_records_each_run_and_reopens(tmp_path):
    specs = [RunSpec("a", FAMILIES["randomised"], 1), RunSpec("b", FAMILIES["foreign"], 2)]
    cfg = simulate_families(tmp_path / "p", specs, SMALL, progress=False)
    prj = open_project(cfg)
    rec = yaml.safe_load((tmp_path / "p" / "families.yaml").read_text())
    assert rec["runs"]["b"]["noise_model"] == "pink" and rec["runs"]["a"]["family"] == "randomised"
    for s in specs:  # the voxel size written is the one drawn, and the picks are the ground truth drawn
        t = prj.tomogram(s.name, "denoised")
        assert abs(t.voxel_size_A[0] - rec["runs"][s.name]["voxel_size_A"]) < 1e-3
        assert list(t.shape) == rec["runs"][s.name]["shape_zyx"]
    n = read_picks(prj).group_by("run").len().sort("run")["len"].to_list()
    assert n == [rec["runs"]["a"]["particles"], rec["runs"]["b"]["particles"]]
    # the same specs give the same data
    cfg2 = simulate_families(tmp_path / "q", specs, SMALL, progress=False)
    a1 = np.asarray(open_project(cfg2).tomogram("b", "denoised").array[:])
    assert np.array_equal(a1, np.asarray(prj.tomogram("b", "denoised").array[:]))


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="lo <= hi"):
        Family(voxel_size_A=(11.0, 9.0))
    with pytest.raises(ValueError, match="shapes from"):
        Family(shapes=("clay",))
    with pytest.raises(ValueError, match="templates"):
        simulate_family_run(FAMILIES["templates"], 0, SMALL)  # needs a folder of templates
    with pytest.raises(FileNotFoundError, match="template folder"):
        simulate_families(tmp_path / "p", [RunSpec("a", FAMILIES["clean"], 0)], SMALL, templates=tmp_path / "no")
    with pytest.raises(ValueError, match="repeat"):
        simulate_families(tmp_path / "p", [RunSpec("a", FAMILIES["clean"], 0)] * 2, SMALL)
    with pytest.raises(ValueError):
        simulate_families(tmp_path / "p", [RunSpec("../x", FAMILIES["clean"], 0)], SMALL)
    assert not (tmp_path / "p").exists()


def test_crash_leaves_nothing_behind_and_keeps_an_earlier_project(tmp_path, monkeypatch):
    specs = [RunSpec("a", FAMILIES["clean"], 0), RunSpec("b", FAMILIES["clean"], 1)]
    cfg = simulate_families(tmp_path / "p", specs, SMALL, progress=False)
    before = sorted(p.name for p in (tmp_path / "p").iterdir())
    calls = []

    def boom(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*a, **k)

    real = domains.simulate_family_run
    monkeypatch.setattr(domains, "simulate_family_run", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        simulate_families(tmp_path / "p", specs, SMALL, overwrite=True, progress=False)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == before  # the earlier project is intact
    assert [p for p in tmp_path.iterdir() if "partial" in p.name] == []  # no half-written folder
    assert open_project(cfg).runs() == ["a", "b"]


@pytest.mark.skipif(not (SHARED / "data").exists(), reason="../shared/data is absent (a user's clone has no ../shared)")
def test_template_family_at_real_layouts(tmp_path):
    lay = picks_table(SHARED / "data" / "czii_train_picks.csv", "layout")  # Kaggle's experiment column becomes run
    fam = replace(FAMILIES["templates"], name="t")
    vols, picks, draw = simulate_family_run(fam, 5, SMALL, templates=SHARED / "data" / "templates", layouts=lay)
    assert draw.shapes == "templates" and draw.layout == "real"
    xyz = picks.select("x", "y", "z").to_numpy()
    assert len(picks) > 0 and (xyz >= 0).all() and (xyz[:, 0] <= SMALL[2]).all()
    assert vols["denoised"].shape == draw.config.shape


def test_cli_simulates_a_family_and_refuses_what_does_not_fit(tmp_path):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "cryo_data.cli", "simulate"]
    r = subprocess.run(
        cmd + ["--out", str(tmp_path / "f"), "--n-runs", "2", "--shape", "32", "96", "96", "--family", "foreign"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    rec = yaml.safe_load((tmp_path / "f" / "families.yaml").read_text())
    assert sorted(rec["runs"]) == ["TS_0", "TS_1"] and {v["family"] for v in rec["runs"].values()} == {"foreign"}
    assert open_project(tmp_path / "f").runs() == ["TS_0", "TS_1"]
    r = subprocess.run(
        cmd + ["--out", str(tmp_path / "g"), "--family", "randomised", "--kaggle"], capture_output=True, text=True
    )
    assert r.returncode == 2 and "--kaggle" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(cmd + ["--out", str(tmp_path / "g"), "--family", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "nope" in r.stderr
    assert not (tmp_path / "g").exists()


def test_cli_family_checks_shape_and_seed(tmp_path):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "cryo_data.cli", "simulate", "--out", str(tmp_path / "s"), "--family", "clean"]
    for extra, words in (
        (["--shape", "0", "96", "96"], "shape"),
        (["--seed", "-1"], "--seed"),
        (["--crowding", "2"], "--crowding"),
    ):
        r = subprocess.run(cmd + extra, capture_output=True, text=True)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
    with pytest.raises(ValueError, match="under 8 voxels"):
        simulate_families(tmp_path / "t", [RunSpec("a", FAMILIES["clean"], 0)], (40.0, 960.0, 960.0))
    assert not (tmp_path / "s").exists() and not (tmp_path / "t").exists()
