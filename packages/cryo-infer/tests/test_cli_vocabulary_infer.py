"""The shared CLI vocabulary (cryo_metric.cliargs) in cryo-infer: today's spellings, --version, and each old spelling
still working for one release with the one deprecation warning on stderr."""

import pytest
import torch
from cryo_data.simproject import simulate_project
from cryo_infer import __version__
from cryo_infer.cli import build_parser, main
from cryo_metric.cliargs import CONCEPTS
from cryo_metric.testing import assert_help_complete
from cryo_models import create_model, save_checkpoint, seed_table

WARN = "cryo-infer: warning: {old} is deprecated and will be removed in the next release; use {new}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("vocab")
    simulate_project(d / "p", runs=1, shape=(32, 64, 64), seed=0, progress=False)
    torch.manual_seed(0)
    save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), d / "m.pt")
    return d


def _subs():
    p = build_parser()
    return next(a for a in p._actions if a.dest == "command").choices


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"cryo-infer {__version__}" == "cryo-infer 0.2.0"


def test_help_complete():
    assert assert_help_complete(build_parser(), "cryo-infer") == ["run", "tune", "preset"]


def test_options_follow_the_vocabulary():
    "Every option a concept names has the concept's flag and dest; no old spelling is shown in --help."
    flags = {s.flag: s.dest for s in CONCEPTS.values()}
    old = {o for s in CONCEPTS.values() for o in s.deprecated} - set(flags)  # `--runs` is also an old `--n-runs`
    for name, sp in _subs().items():
        for a in sp._actions:
            for o in a.option_strings:
                if o in flags:
                    assert a.dest == flags[o], (name, o)
                if o in old:
                    assert a.help == "==SUPPRESS==", (name, o)
    run = {o for a in _subs()["run"]._actions for o in a.option_strings}
    assert {"--project", "--runs", "--tomo-type", "--checkpoint", "--user", "--session", "--device", "--quiet"} <= run
    assert "--checkpoint-dir" in {o for a in _subs()["preset"]._actions for o in a.option_strings}


def test_runs_are_names():
    a = build_parser().parse_args(
        ["run", "--project", "P", "--checkpoint", "m.pt", "--out", "o", "--runs", "TS_1", "2"]
    )
    assert a.runs == ["TS_1", "2"]


def test_deprecated_data_in_run_works_and_warns(world, capsys):
    argv = ["run", "--data", world / "p", "--checkpoint", world / "m.pt", "--out", world / "o", "--tta", "none"]
    assert main([str(a) for a in argv] + ["--quiet"]) == 0
    err = capsys.readouterr().err
    assert WARN.format(old="--data", new="--project") in err
    assert (world / "o" / "picks" / "TS_0.csv").exists()


def test_deprecated_data_in_tune_works_and_warns(capsys):
    a = build_parser().parse_args(["tune", "--data", "P", "--ensemble", "e.yaml", "--runs", "TS_0", "--out", "t.yaml"])
    assert a.project == "P"
    assert WARN.format(old="--data", new="--project") in capsys.readouterr().err


def test_deprecated_checkpoints_in_preset_works_and_warns(tmp_path, capsys):
    for name in seed_table()["checkpoint"].to_list():
        (tmp_path / name).write_bytes(b"")
    assert main(["preset", "2nd-place-7", "--checkpoints", str(tmp_path), "--out", str(tmp_path / "e.yaml")]) == 0
    assert WARN.format(old="--checkpoints", new="--checkpoint-dir") in capsys.readouterr().err
    assert (tmp_path / "e.yaml").exists()


def test_voxel_size_selects_the_copick_spacing(tmp_path, capsys):
    "With --project, --voxel-size is the copick voxel spacing to read: required (and listed) where a run has several."
    cfg = simulate_project(tmp_path / "p", runs=1, shape=(32, 64, 64), seed=0, progress=False)
    torch.manual_seed(0)
    save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), tmp_path / "m.pt")
    from cryo_data.io import open_project

    open_project(cfg).run("TS_0").new_voxel_spacing(voxel_size=20.0)
    base = ["run", "--project", str(cfg), "--checkpoint", str(tmp_path / "m.pt"), "--tta", "none", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "several voxel spacings [10.012, 20.0]" in err and "pass --voxel-size" in err
    assert main([*base, "--out", str(tmp_path / "o"), "--voxel-size", "30"]) == 2
    assert "no voxel spacing 30.0 (--voxel-size); available: [10.012, 20.0]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main([*base, "--out", str(tmp_path / "o"), "--voxel-size", "10.012"]) == 0
    assert (tmp_path / "o" / "picks" / "TS_0.csv").exists()
    with pytest.raises(SystemExit) as e:  # the old unreleased spelling is gone
        build_parser().parse_args([*base, "--out", "o", "--voxel-spacing", "10.012"])
    assert e.value.code == 2
