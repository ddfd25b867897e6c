"""A user's own project through `cryo-data simulate` (issue 38): another voxel spacing, a portal-style tomogram type,
two particle classes of the user's own, ground truth under a user/session other than curation/0, a small shape, and
the project read back with copick's own API (`copick.from_file`) and with cryo-data."""

import json

import numpy as np
import pytest
from cryo_data.cli import main
from cryo_data.io import open_project
from cryo_data.picks import read_picks
from cryo_metric.testing import CliHarness

H = CliHarness(main, "cryo-data")
SHAPE = (48, 96, 96)


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    d = tmp_path_factory.mktemp("own")
    (d / "my.csv").write_text("name,radius_A,weight\nbig-complex,120,1\nsmall-complex,60,2\n")
    argv = ["simulate", "--out", d / "mine", "--n-runs", "2", "--shape", *map(str, SHAPE), "--seed", "3"]
    argv += ["--voxel-size", "7.84", "--particles", d / "my.csv", "--tomo-type", "wbp-denoised-denoiset-ctfdeconv"]
    argv += ["--truth-user", "lab", "--truth-session", "1", "--crowding", "40", "--quiet"]
    code, out, err = H.cli(argv)
    assert code == 0, err
    assert out.strip() == f"wrote {d / 'mine' / 'copick.json'}" and err == ""
    return d / "mine"


def test_own_project_read_with_copick(own):
    import copick

    root = copick.from_file(str(own / "copick.json"))
    objs = {o.name: o for o in root.pickable_objects}
    assert sorted(objs) == ["big-complex", "small-complex"]
    assert (objs["big-complex"].radius, objs["small-complex"].radius) == (120.0, 60.0)
    assert sorted(r.name for r in root.runs) == ["TS_3", "TS_4"]
    counts = {}
    for run in root.runs:
        (vs,) = run.voxel_spacings
        assert vs.voxel_size == pytest.approx(7.84)
        assert [t.tomo_type for t in vs.tomograms] == ["wbp-denoised-denoiset-ctfdeconv"]
        vol = np.asarray(vs.tomograms[0].numpy())
        assert vol.shape == SHAPE and np.isfinite(vol).all() and vol.std() > 0
        picks = run.get_picks()
        assert {(p.user_id, p.session_id) for p in picks} == {("lab", "1")}
        assert run.get_picks(user_id="curation") == []
        for p in picks:
            xyz = np.array([[q.location.x, q.location.y, q.location.z] for q in p.points]).reshape(-1, 3)
            extent = np.array(SHAPE[::-1]) * 7.84
            assert ((xyz >= 0) & (xyz <= extent)).all()
            counts[p.pickable_object_name] = counts.get(p.pickable_object_name, 0) + len(xyz)
    assert counts["big-complex"] > 0 and counts["small-complex"] > 0


def test_own_project_read_with_cryo_data(own, capsys):
    prj = open_project(own)  # the config's cryo block names the ground truth: lab/1
    assert (prj.truth_user, prj.truth_session) == ("lab", "1")
    assert prj.particle_names == ["big-complex", "small-complex"]
    assert prj.particles.radii() == {"big-complex": 120.0, "small-complex": 60.0}
    t = prj.tomogram("TS_3", "denoised")  # the portal-style name is found as denoised
    assert t.shape == SHAPE and t.voxel_size_A == pytest.approx((7.84, 7.84, 7.84))
    pk = read_picks(prj)
    assert set(pk["user"]) == {"lab"} and set(pk["session"]) == {"1"} and len(pk) > 0
    code, out, err = H.cli(["info", "--project", own], capsys)
    assert code == 0 and "wbp-denoised-denoiset-ctfdeconv" in out and "7.84" in out, err
    code, out, err = H.cli(["show", "--project", own, "--run", "TS_4", "--out", own.parent / "f.png"], capsys)
    assert code == 0 and (own.parent / "f.png").stat().st_size > 10_000, err
    assert json.loads((own / ".cryo-made").read_text())["kind"] == "project"


@pytest.mark.parametrize(
    "extra,words",
    [
        (["--tomo-type", "fancy-reconstruction"], "the simulator makes"),
        (["--tomo-type", "denoised", "wbp-denoised-denoiset-ctfdeconv"], "repeat a simulated style"),
        (["--particles", "missing.csv"], "no such file"),
        (["--truth-user", "la_b"], "invalid user name"),
        (["--truth-session", "../x"], "invalid session name"),
        (["--kaggle", "--truth-user", "lab"], "Kaggle layout's ground truth is curation/0"),
        (["--family", "clean", "--voxel-size", "7.84"], "drop --voxel-size"),
        (["--family", "clean", "--tomo-type", "wbp-denoised-denoiset-ctfdeconv"], "simulator's own tomogram type"),
    ],
)
def test_own_project_bad_options_refused(tmp_path, extra, words, capsys):
    (tmp_path / "unrelated.txt").write_text("keep")
    H.expect_error(
        tmp_path, ["simulate", "--out", tmp_path / "new", "--shape", "16", "32", "32", "--quiet"] + extra, words, capsys
    )


@pytest.mark.parametrize(
    "csv,words",
    [
        ("name,weight\na,1\n", "missing column(s) ['radius_A']"),
        ("name,radius_A\na,-5\n", "radius_A must be > 0"),
        ("name,radius_A\na,x\n", "must hold a number"),
        ("name,radius_A\na,50\na,60\n", "names repeat"),
        ("name,radius_A\na_b,50\n", "invalid particle name"),
        ("name,radius_A\n", "expected rows"),
        ("name,radius_A\na,50\nb,inf\n", "row 3 ('b'): radius_A must be > 0 and finite"),
        ("name,radius_A,weight\na,50,-1\n", "row 2 ('a'): weight must be >= 0"),
        ("particle_type,name,radius_A\na,b,50\n", "repeated column(s) ['name', 'particle_type']"),
    ],
)
def test_own_particles_csv_refused(tmp_path, csv, words, capsys):
    (tmp_path / "p.csv").write_text(csv)
    argv = ["simulate", "--out", tmp_path / "new", "--shape", "16", "32", "32", "--particles", tmp_path / "p.csv"]
    H.expect_error(tmp_path, argv, words, capsys)
