"""`cryo-infer run` without a YAML (--checkpoint), on plain MRC files (--mrc) and with --format star/copick; help texts."""

import mrcfile
import numpy as np
import pytest
import starfile
from cryo_data.io import open_project
from cryo_data.picks import read_picks, read_star, tomogram_centres
from cryo_data.simproject import simulate_project
from cryo_infer.cli import build_parser, main
from cryo_metric.testing import assert_help_complete
from cryo_models import create_model, save_checkpoint


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    cfg = simulate_project(d / "p", runs=1, shape=(32, 64, 64), seed=5, crowding=8.0, progress=False)
    save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)).eval(), d / "m.pt")
    return d, cfg


FAST = ["--tta", "none", "--roi", "32", "64", "64", "--quiet"]


def test_checkpoint_without_yaml_and_star(setup, tmp_path):
    d, cfg = setup
    assert (
        main(
            [
                "run",
                "--project",
                str(cfg),
                "--checkpoint",
                str(d / "m.pt"),
                "--checkpoint",
                str(d / "m.pt"),
                "--out",
                str(tmp_path / "o"),
                "--format",
                "star",
                *FAST,
            ]
        )
        == 0
    )
    assert (tmp_path / "o" / "submission.csv").exists()
    s = starfile.read(tmp_path / "o" / "particles.star")
    if len(s):  # an untrained net may pick nothing; the header and columns still must be RELION 5's
        assert "rlnCenteredCoordinateXAngst" in s.columns
    text = (tmp_path / "o" / "particles.star").read_text()
    assert "rlnClassNumber 1 = apo-ferritin" in text and "cryoParticleType" not in text


def test_mrc_files_without_project(setup, tmp_path, capsys):
    d, cfg = setup
    vol = open_project(cfg).tomogram("TS_5").numpy()
    with mrcfile.new(tmp_path / "tomoA.mrc") as m:
        m.set_data(vol)
    argv = ["run", "--mrc", str(tmp_path / "tomoA.mrc"), "--voxel-size", "10.012", "--checkpoint", str(d / "m.pt")]
    argv += ["--out", str(tmp_path / "o"), "--format", "copick", *FAST]
    assert main(argv) == 0
    prj = open_project(tmp_path / "o" / "project")
    assert prj.runs() == ["tomoA"] and prj.tomogram("tomoA").shape == vol.shape
    # a rerun resumes: the imported tomogram is reused, the finished run skipped
    assert main(argv) == 0
    bad = ["run", "--mrc", str(tmp_path / "tomoA.mrc"), "--voxel-size", "0", "--checkpoint", str(d / "m.pt")]
    assert main([*bad, "--out", str(tmp_path / "z"), *FAST]) == 2  # a given voxel size of 0 is named as given
    err = capsys.readouterr().err
    assert "voxel size 0.0 from --voxel-size" in err and "between 0.1 and 100" in err
    assert not (tmp_path / "z").exists()  # refused before anything is written


def test_errors_name_the_problem(setup, tmp_path, capsys):
    d, cfg = setup
    assert (
        main(["run", "--project", str(cfg), "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "nope.pt" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                "--mrc",
                str(tmp_path / "missing.mrc"),
                "--checkpoint",
                str(d / "m.pt"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "missing.mrc" in capsys.readouterr().err


def test_star_round_trip_matches_picks(setup, tmp_path):
    d, cfg = setup
    prj = open_project(cfg)
    truth = read_picks(prj)
    from cryo_data.picks import write_star

    c = tomogram_centres(prj, prj.runs())
    back = read_star(write_star(truth, tmp_path / "t.star", c), c).sort("particle_type", "x")
    assert np.allclose(back["x"].to_numpy(), truth.sort("particle_type", "x")["x"].to_numpy(), atol=1e-4)


def test_every_option_has_help_and_every_subcommand_an_example():
    assert assert_help_complete(build_parser(), "cryo-infer") == ["run", "tune", "preset"]


def test_normalization_follows_the_checkpoint(setup, tmp_path):
    "A robust- or local-trained checkpoint runs so; --normalization overrides; unclipped tiles for it warn."
    import warnings

    d, cfg = setup
    save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)).eval(), d / "r.pt", normalization="robust")
    base = ["run", "--project", str(cfg), "--checkpoint", str(d / "r.pt"), *FAST]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no mismatch: the window took the checkpoint's normalisation
        assert main([*base, "--out", str(tmp_path / "a")]) == 0
    with pytest.warns(UserWarning, match="trained with normalization 'robust'.*'patch'"):
        assert main([*base, "--out", str(tmp_path / "b"), "--normalization", "patch"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # robust tiles for a patch-trained model: a choice, no warning
        argv = ["run", "--project", str(cfg), "--checkpoint", str(d / "m.pt"), *FAST, "--normalization", "robust"]
        assert main([*argv, "--out", str(tmp_path / "c")]) == 0
    save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)).eval(), d / "l.pt", normalization="local")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a local-trained checkpoint gets local tiles without being told
        argv = ["run", "--project", str(cfg), "--checkpoint", str(d / "l.pt"), *FAST, "--out", str(tmp_path / "l")]
        assert main(argv) == 0
    argv = ["run", "--project", str(cfg), "--checkpoint", str(d / "m.pt"), *FAST, "--normalization", "tomogram"]
    assert main([*argv, "--out", str(tmp_path / "t")]) == 0  # float64 tomogram statistics, float32 tiles
    with pytest.raises(SystemExit) as e:  # argparse refuses an unknown name, listing the known ones
        main([*base, "--out", str(tmp_path / "e"), "--normalization", "global"])
    assert e.value.code == 2


def test_membranes_suppress(setup, tmp_path):
    "--membranes suppress is recorded in the run's ensemble; on a run without membranes nothing is painted over."
    import yaml
    from cryo_infer.membranes import membrane_mask

    d, cfg = setup
    t = open_project(cfg).tomogram("TS_5")
    assert not membrane_mask(t.numpy(), t.voxel_size_A).any()  # the simulator's default family draws no membranes
    base = ["run", "--project", str(cfg), "--checkpoint", str(d / "m.pt"), *FAST]
    assert main([*base, "--out", str(tmp_path / "k")]) == 0
    assert main([*base, "--out", str(tmp_path / "s"), "--membranes", "suppress"]) == 0
    ens = yaml.safe_load((tmp_path / "s" / "ensemble.yaml").read_text())
    assert ens["window"]["membranes"] == "suppress"
    assert (tmp_path / "s" / "submission.csv").read_text() == (tmp_path / "k" / "submission.csv").read_text()
    with pytest.raises(SystemExit) as e:
        main([*base, "--out", str(tmp_path / "e"), "--membranes", "erase"])
    assert e.value.code == 2


def test_membranes_suppress_needs_the_voxel_size():
    from cryo_infer.predict import predict_volume
    from cryo_infer.window import WindowConfig

    m = create_model("unet_v1", channels=(8, 16, 16, 16)).eval()
    vol = np.random.default_rng(0).normal(size=(32, 64, 64)).astype(np.float32)
    w = WindowConfig(roi_size=(32, 64, 64), membranes="suppress")
    with pytest.raises(ValueError, match="voxel_size_A"):
        predict_volume(m, vol, w, "none", progress=False)
    with pytest.raises(ValueError, match="window.membranes"):
        predict_volume(m, vol, WindowConfig(roi_size=(32, 64, 64), membranes="erase"), "none", progress=False)
    p = predict_volume(m, vol, w, "none", progress=False, voxel_size_A=10.0)
    assert p.shape[1:] == vol.shape and np.isfinite(p).all()


def test_tune_writes_a_tuned_copy(setup, tmp_path, capsys):
    import shutil

    import yaml
    from cryo_infer.ensemble import ensemble_from_checkpoints, ensemble_to_dict, load_ensemble
    from cryo_infer.evaluate import THRESHOLD_GRID

    d, cfg = setup
    (tmp_path / "a").mkdir()
    shutil.copy(d / "m.pt", tmp_path / "a" / "m.pt")
    e = ensemble_to_dict(ensemble_from_checkpoints([tmp_path / "a" / "m.pt"], "none", "full"))
    e["members"][0]["checkpoint"] = "m.pt"  # relative to the YAML's folder
    ens = tmp_path / "a" / "ens.yaml"
    ens.write_text(yaml.safe_dump(e))
    before = ens.read_bytes()
    run = open_project(cfg).runs()[0]
    out = tmp_path / "b" / "tuned.yaml"
    args = ["tune", "--project", str(cfg), "--ensemble", str(ens), "--runs", run, "--out", str(out), "--quiet"]
    assert main(args + ["--grid", "0.1", "0.3"]) == 0
    printed = capsys.readouterr().out
    assert f"F-beta on {run}" in printed and f"wrote {out}" in printed
    assert ens.read_bytes() == before  # the ensemble read is never changed
    tuned = load_ensemble(out)  # in another folder: the member path was made absolute
    assert tuned.members[0].checkpoint == str((tmp_path / "a" / "m.pt").resolve())
    thr = yaml.safe_load(out.read_text())["post"]["thresholds"]
    assert set(thr) == set(open_project(cfg).particles.scored)
    assert all(v in (0.1, 0.3, 0.15) for v in thr.values())  # tuned from the grid, or kept as `full` had it
    assert main(args) == 2  # no silent overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--grid", "0.2", "1.5"]) == 2
    assert "(0, 1)" in capsys.readouterr().err
    assert main(args[:6] + ["TS_nope", "--out", str(tmp_path / "c.yaml"), "--quiet"]) == 2
    assert "TS_nope" in capsys.readouterr().err
    assert not (tmp_path / "c.yaml").exists()
    assert THRESHOLD_GRID[0] > 0
    same = args[:7] + ["--out", str(ens), "--quiet", "--overwrite"]  # --out is the --ensemble itself
    assert main(same) == 2
    assert "never changes" in capsys.readouterr().err
    assert ens.read_bytes() == before
    assert main(args[:7] + ["--out", str(tmp_path / "a"), "--quiet"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(args[:6] + [run, run, "--out", str(tmp_path / "d.yaml"), "--quiet"]) == 2
    assert "more than once" in capsys.readouterr().err
    assert main(args[:8] + [str(tmp_path / "e.yaml"), "--quiet", "--truth-user", "nobody"]) == 2
    assert "no ground-truth picks by nobody" in capsys.readouterr().err
