"""Robustness suite, cryo-metric: bad inputs give one readable `cryo-metric: error:` line, exit 2, no traceback, and
leave every file as it was. Categories: names (paths/copick rewriting), silent (would score wrongly), message (was a
traceback)."""

import json
import math

import numpy as np
import polars as pl
import pytest
from cryo_metric import CZII_PARTICLES, ParticleSet, score, tune_thresholds
from cryo_metric.cli import main
from cryo_metric.guards import check_name, error_text
from cryo_metric.testing import CliHarness, snapshot

# ---- shared helpers: cryo_metric.testing (the same in every package's robustness suite) ----
H = CliHarness(main, "cryo-metric")
cli, assert_clean_error = H.cli, H.assert_clean_error


# ---- fixtures ----
SOL = pl.DataFrame(
    {
        "experiment": ["TS_1", "TS_1", "TS_2"],
        "particle_type": ["ribosome", "apo-ferritin", "thyroglobulin"],
        "x": [1000.0, 2000.0, 3000.0],
        "y": [1000.0, 2000.0, 3000.0],
        "z": [500.0, 500.0, 500.0],
    }
)


@pytest.fixture()
def world(tmp_path):
    "A folder with a solution CSV, a submission CSV, a copick project and an unrelated file."
    copick = pytest.importorskip("copick")
    SOL.write_csv(tmp_path / "sol.csv")
    SOL.write_csv(tmp_path / "sub.csv")
    (tmp_path / "unrelated.txt").write_text("keep me")
    objs = [
        {"name": p.name, "is_particle": True, "label": i + 1, "radius": p.radius_A, "pdb_id": "x"}
        for i, p in enumerate(CZII_PARTICLES)
    ]
    cfg = {
        "name": "t",
        "version": "1.0.0",
        "config_type": "filesystem",
        "pickable_objects": objs,
        "overlay_root": "local://" + str(tmp_path / "proj" / "overlay"),
        "overlay_fs_args": {"auto_mkdir": True},
    }
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "copick.json").write_text(json.dumps(cfg))
    root = copick.from_file(str(tmp_path / "proj" / "copick.json"))
    run = root.new_run("TS_1")
    run.new_picks("ribosome", session_id="0", user_id="curation").from_numpy(np.array([[1000.0, 1000.0, 500.0]]))
    run.new_picks("ribosome", session_id="0", user_id="cura-tion").from_numpy(np.array([[1000.0, 1000.0, 500.0]]))
    empty = dict(cfg, overlay_root="local://" + str(tmp_path / "nowhere"))
    (tmp_path / "empty.json").write_text(json.dumps(empty))
    return tmp_path


def _expect_error(world, argv, contains, capsys):
    before = snapshot(world)
    code, out, err = cli(argv, capsys)
    assert_clean_error(code, err, contains)
    assert snapshot(world) == before  # inputs and unrelated files untouched


# ---- names: a user/session copick would rewrite, or one that escapes a folder ----
BAD_COPICK_NAMES = ["cura_tion", "../x", "a/b", "..", "x y", "-lead", "a\\b", ""]


@pytest.mark.parametrize("name", BAD_COPICK_NAMES)
def test_names_user_refused(world, name, capsys):
    cfg = world / "proj" / "copick.json"
    _expect_error(
        world, ["score", "--project", cfg, cfg, f"--user={name}", "--session", "0"], "invalid user name", capsys
    )


@pytest.mark.parametrize("name", ["a_b", "../../s"])
def test_names_session_refused(world, name, capsys):
    cfg = world / "proj" / "copick.json"
    _expect_error(
        world,
        ["score", "--project", cfg, cfg, "--user", "curation", f"--session={name}"],
        "invalid session name",
        capsys,
    )


def test_names_truth_user_refused(world, capsys):
    cfg = world / "proj" / "copick.json"
    _expect_error(world, ["score", "--project", cfg, cfg, "--truth-user", "cura_tion"], "copick would rewrite", capsys)


@pytest.mark.parametrize(
    "name,kind", [("TS_5_4", "run"), ("curation", "user"), ("0", "session"), ("apo-ferritin", "particle")]
)
def test_names_valid_pass(name, kind):
    assert check_name(name, kind) == name


@pytest.mark.parametrize("name", ["../../x", "/abs", "a/../b", "TS 1", ".hidden", "x" * 129])
def test_names_run_refused_api(name):
    with pytest.raises(ValueError, match="allowed are"):
        check_name(name, "run")


# ---- silent wrong results become errors ----
@pytest.mark.parametrize("beta", ["0", "-1", "nan", "inf", "-inf"])
def test_silent_beta_refused(world, beta, capsys):
    _expect_error(
        world, ["score", "--project", world / "sol.csv", world / "sub.csv", f"--beta={beta}"], "beta must be", capsys
    )


@pytest.mark.parametrize("mult", ["0", "-0.5", "nan"])
def test_silent_distance_multiplier_refused(world, mult, capsys):
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", f"--distance-multiplier={mult}"],
        "distance_multiplier must be",
        capsys,
    )


def test_silent_all_weights_zero(world, capsys):
    pl.DataFrame(
        {"particle_type": ["ribosome", "thyroglobulin"], "radius_A": [150.0, 130.0], "weight": [0.0, 0.0]}
    ).write_csv(world / "p.csv")
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"],
        "every particle weight is 0",
        capsys,
    )


def test_silent_copick_config_points_at_nothing(world, capsys):
    _expect_error(world, ["score", "--project", world / "sol.csv", world / "empty.json"], "finds no runs", capsys)


def test_silent_empty_solution(world, capsys):
    SOL.head(0).write_csv(world / "empty_sol.csv")
    _expect_error(world, ["score", "--project", world / "empty_sol.csv", world / "sub.csv"], "holds no picks", capsys)


def test_silent_copick_solution_wrong_user(world, capsys):
    cfg = world / "proj" / "copick.json"
    _expect_error(world, ["score", "--project", cfg, cfg, "--truth-user", "nobody"], "holds no picks", capsys)


@pytest.mark.parametrize("value", ["nan", "", "inf"])
def test_silent_nonfinite_coordinates(world, value, capsys):
    (world / "bad.csv").write_text(f"experiment,particle_type,x,y,z\nTS_1,ribosome,{value},1,1\n")
    _expect_error(world, ["score", "--project", world / "sol.csv", world / "bad.csv"], "column 'x'", capsys)


def test_silent_negative_weight_api():
    with pytest.raises(ValueError, match="weight must be >= 0"):
        ParticleSet.from_mapping({"a": 10.0}, {"a": -1.0})


@pytest.mark.parametrize("beta", [0.0, -2.0, math.nan])
def test_silent_beta_api_score_and_tune(beta):
    with pytest.raises(ValueError, match="beta must be"):
        score(SOL, SOL, beta=beta)
    with pytest.raises(ValueError, match="beta must be"):
        tune_thresholds(SOL, SOL.with_columns(score=pl.lit(1.0)), beta=beta)


def test_silent_weights_zero_api():
    ps = ParticleSet.from_mapping({"ribosome": 150.0}, {"ribosome": 0.0})
    with pytest.raises(ValueError, match="every particle weight is 0"):
        score(SOL.filter(pl.col("particle_type") == "ribosome"), SOL, particles=ps)


# ---- tracebacks become one-line messages ----
def test_message_particles_csv_without_radius(world, capsys):
    pl.DataFrame({"particle_type": ["ribosome"], "weight": [1.0]}).write_csv(world / "p.csv")
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"],
        "radius_A",
        capsys,
    )


def test_message_particles_csv_non_numeric(world, capsys):
    (world / "p.csv").write_text("particle_type,radius_A\nribosome,big\n")
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"],
        "must hold a number",
        capsys,
    )


def test_message_particles_missing_file(world, capsys):
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "nope.csv"],
        "no such file",
        capsys,
    )


def test_message_particles_zero_radius(world, capsys):
    pl.DataFrame({"particle_type": ["ribosome"], "radius_A": [0.0]}).write_csv(world / "p.csv")
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"],
        "radius_A must be > 0",
        capsys,
    )


def test_message_garbage_copick_config(world, capsys):
    (world / "bad.json").write_text("{not json")
    _expect_error(
        world, ["score", "--project", world / "sol.csv", world / "bad.json"], "cannot open copick config", capsys
    )


def test_message_missing_copick_config(world, capsys):
    _expect_error(
        world, ["score", "--project", world / "sol.csv", world / "missing.json"], "no such copick config", capsys
    )


def test_message_missing_column(world, capsys):
    SOL.drop("z").write_csv(world / "noz.csv")
    _expect_error(
        world, ["score", "--project", world / "sol.csv", world / "noz.csv"], "missing column(s) ['z']", capsys
    )


def test_message_binary_csv(world, capsys):
    (world / "bin.csv").write_bytes(bytes(range(256)) * 4)
    code, out, err = cli(["score", "--project", world / "sol.csv", world / "bin.csv"], capsys)
    assert code == 2 and "Traceback" not in err and err.startswith("cryo-metric: error:")


def test_message_unknown_particle(world, capsys):
    SOL.with_columns(particle_type=pl.lit("proteasome")).write_csv(world / "pr.csv")
    _expect_error(world, ["score", "--project", world / "sol.csv", world / "pr.csv"], "proteasome", capsys)


def test_message_duplicate_solution_points(world, capsys):
    pl.concat([SOL, SOL]).write_csv(world / "dup.csv")
    _expect_error(
        world, ["score", "--project", world / "dup.csv", world / "sub.csv"], "duplicate reference points", capsys
    )


def test_message_directory_without_config(world, capsys):
    (world / "emptydir").mkdir()
    _expect_error(
        world, ["score", "--project", world / "sol.csv", world / "emptydir"], "neither copick.json nor a Kaggle", capsys
    )


def test_message_text_is_one_line():
    assert error_text(KeyError("run 'x' not found")) == "run 'x' not found"
    assert error_text(PermissionError(13, "Permission denied", "/ro/x")) == "Permission denied: /ro/x"


def test_correct_result_still_exit_0(world, capsys):
    "Control: valid inputs still score (and the copick user `cura-tion`, which copick accepts, is read)."
    code, out, err = cli(["score", "--project", world / "sol.csv", world / "sub.csv", "--json"], capsys)
    assert code == 0 and json.loads(out)["score"] == pytest.approx(score(SOL, SOL).score)
    cfg = world / "proj" / "copick.json"
    code, out, err = cli(["score", "--project", cfg, cfg, "--user", "cura-tion", "--session", "0", "--json"], capsys)
    assert code == 0 and json.loads(out)["per_class"]["ribosome"]["tp"] == 1


# ---- issue 38/39/41: the shared vocabulary, scoring some runs, Kaggle folders, copick projects as folders ----
THREE = pl.DataFrame(
    {
        "run": ["TS_1", "TS_1", "TS_2", "TS_3"],
        "particle_type": ["ribosome", "thyroglobulin", "ribosome", "apo-ferritin"],
        "x": [1000.0, 2000.0, 3000.0, 4000.0],
        "y": [1000.0, 2000.0, 3000.0, 4000.0],
        "z": [500.0, 500.0, 500.0, 500.0],
    }
)


def _score_json(argv, capsys):
    code, out, err = cli([*argv, "--json"], capsys)
    assert code == 0, err
    return json.loads(out), err


def test_version(capsys):
    from cryo_metric import __version__

    code, out, err = cli(["--version"], capsys)
    assert code == 0 and out.strip() == f"cryo-metric {__version__}"


def test_old_spellings_still_work_with_a_warning(world, capsys):
    cfg = world / "proj" / "copick.json"
    new, err = _score_json(["score", "--project", cfg, cfg, "--truth-user", "curation", "--truth-session", "0"], capsys)
    assert err == ""
    old, err = _score_json(["score", cfg, cfg, "--solution-user", "curation", "--solution-session", "0"], capsys)
    assert old == new
    lines = err.splitlines()
    assert len(lines) == 3 and all(l.startswith("cryo-metric: warning: ") for l in lines)
    assert any("--solution-user is deprecated" in l and l.endswith("use --truth-user") for l in lines)
    assert any("--solution-session is deprecated" in l and l.endswith("use --truth-session") for l in lines)
    assert any("positional PROJECT is deprecated" in l for l in lines)


def test_project_missing_or_given_twice(world, capsys):
    _expect_error(world, ["score", world / "sub.csv"], "--project is required", capsys)
    _expect_error(
        world, ["score", world / "sol.csv", world / "sub.csv", "--project", world / "sub.csv"], "given twice", capsys
    )
    code, out, err = cli(["score", "--project", world / "sol.csv", "--data", world / "sub.csv"], capsys)
    assert code == 2 and "unrecognized arguments: --data" in err  # --data was never a cryo-metric option


def test_runs_warning_names_unpredicted_runs(world, capsys):
    THREE.write_csv(world / "three.csv")
    THREE.filter(pl.col("run") == "TS_1").write_csv(world / "pred1.csv")
    res, err = _score_json(["score", "--project", world / "three.csv", world / "pred1.csv"], capsys)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cryo-metric: warning: 2 run(s)"), err
    assert "TS_2, TS_3" in lines[0] and "TS_1" not in lines[0] and "--runs" in lines[0]
    assert res["score"] == pytest.approx(score(THREE, THREE.filter(pl.col("run") == "TS_1")).score)


def test_runs_scores_only_those_runs(world, capsys):
    THREE.write_csv(world / "three.csv")
    pred = THREE.filter(pl.col("run") != "TS_3").with_columns(pl.col("x") + 5.0)
    pred.write_csv(world / "pred.csv")
    for runs in (["TS_1"], ["TS_1", "TS_2"], ["TS_2", "TS_2"]):
        res, err = _score_json(["score", "--project", world / "three.csv", world / "pred.csv", "--runs", *runs], capsys)
        keep = pl.col("run").is_in(runs)
        expected = score(THREE.filter(keep), pred.filter(keep))
        assert err == "" and res["score"] == pytest.approx(expected.score), runs
        assert res == json.loads(json.dumps(expected.to_dict()))


def test_runs_named_without_predictions_warn(world, capsys):
    THREE.write_csv(world / "three.csv")
    THREE.filter(pl.col("run") == "TS_1").write_csv(world / "pred1.csv")
    res, err = _score_json(
        ["score", "--project", world / "three.csv", world / "pred1.csv", "--runs", "TS_1", "TS_3"], capsys
    )
    assert "1 run(s) named by --runs have no predictions" in err and "TS_3" in err


def test_runs_warning_lists_at_most_ten(world, capsys):
    many = pl.concat([THREE.head(1).with_columns(run=pl.lit(f"TS_{i:02d}")) for i in range(25)])
    many.write_csv(world / "many.csv")
    many.filter(pl.col("run") == "TS_00").write_csv(world / "pred.csv")
    _, err = _score_json(["score", "--project", world / "many.csv", world / "pred.csv"], capsys)
    assert "24 run(s)" in err and "TS_10 and 14 more" in err and "TS_11" not in err


@pytest.mark.parametrize(
    "runs,contains",
    [(["TS_9"], "TS_9 not in the ground truth"), (["../x"], "invalid run name"), (["TS 1"], "invalid run name")],
)
def test_runs_refused(world, runs, contains, capsys):
    _expect_error(
        world, ["score", "--project", world / "sol.csv", world / "sub.csv", "--runs", *runs], contains, capsys
    )


def test_runs_needs_a_name(world, capsys):
    code, out, err = cli(["score", "--project", world / "sol.csv", world / "sub.csv", "--runs"], capsys)
    assert code == 2 and "--runs" in err and "Traceback" not in err


def _kaggle(root, runs=("TS_1", "TS_2")):
    "A read-only Kaggle train/ folder holding SOL's picks (as the competition ships them: <particle>.json)."
    train = root / "kaggle" / "train"
    for run in runs:
        (train / "static" / "ExperimentRuns" / run / "VoxelSpacing10.000" / "denoised.zarr").mkdir(parents=True)
        picks = train / "overlay" / "ExperimentRuns" / run / "Picks"
        picks.mkdir(parents=True)
        for name in CZII_PARTICLES.names:
            rows = SOL.filter((pl.col("experiment") == run) & (pl.col("particle_type") == name))
            pts = [
                {"location": {"x": x, "y": y, "z": z}, "instance_id": 0}
                for x, y, z in rows.select("x", "y", "z").rows()
            ]
            doc = {
                "pickable_object_name": name,
                "user_id": "curation",
                "session_id": "0",
                "run_name": run,
                "points": pts,
            }
            (picks / f"{name}.json").write_text(json.dumps(doc))
    return train


def _read_only(folder):
    for p in sorted(folder.rglob("*"), reverse=True) + [folder]:
        p.chmod(0o555 if p.is_dir() else 0o444)


def _writable(folder):
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def test_kaggle_folder_is_a_ground_truth(world, capsys):
    train = _kaggle(world)
    _read_only(train)
    try:
        before = snapshot(world)
        res, err = _score_json(["score", "--project", train, world / "sub.csv"], capsys)
        assert err == "" and res["score"] == pytest.approx(score(SOL, SOL).score)
        res, err = _score_json(["score", "--project", train, world / "sub.csv", "--runs", "TS_2"], capsys)
        assert res["score"] == pytest.approx(
            score(SOL.filter(pl.col("experiment") == "TS_2"), SOL.filter(pl.col("experiment") == "TS_2")).score
        )
        assert snapshot(world) == before  # nothing written, not even a work folder
    finally:
        _writable(train)


def test_kaggle_folder_errors(world, capsys):
    train = _kaggle(world)
    _expect_error(
        world, ["score", "--project", train, world / "sub.csv", "--particles", "copick"], "--particles czii", capsys
    )
    _expect_error(
        world, ["score", "--project", train, world / "sub.csv", "--truth-user", "nobody"], "holds no picks", capsys
    )
    test = world / "kaggle" / "test"
    (test / "static" / "ExperimentRuns" / "TS_9").mkdir(parents=True)
    _expect_error(world, ["score", "--project", test, world / "sub.csv"], "holds no picks", capsys)
    bad = train / "overlay" / "ExperimentRuns" / "TS_1" / "Picks" / "ribosome.json"
    for content in ["{not json", '{"points": 3}', '{"points": [{"location": {"x": "a", "y": 1, "z": 1}}]}', "[]"]:
        bad.write_text(content)
        _expect_error(world, ["score", "--project", train, world / "sub.csv"], "ribosome.json", capsys)


def test_particles_copick_accepts_a_project_folder(world, capsys):
    cfg = world / "proj" / "copick.json"
    by_config, _ = _score_json(["score", "--project", cfg, cfg, "--particles", "copick"], capsys)
    by_folder, _ = _score_json(["score", "--project", world / "proj", world / "proj", "--particles", "copick"], capsys)
    as_spec, _ = _score_json(["score", "--project", cfg, cfg, "--particles", world / "proj"], capsys)
    assert by_config == by_folder == as_spec
    assert by_folder["per_class"]["ribosome"]["tp"] == 1


def test_particles_copick_needs_a_copick_ground_truth(world, capsys):
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", "copick"],
        "not a copick config",
        capsys,
    )


@pytest.mark.parametrize("content", ["[1, 2]", '{"pickable_objects": "x"}', '{"pickable_objects": [{"radius": 3}]}'])
def test_particles_copick_config_of_another_shape(world, content, capsys):
    (world / "odd.json").write_text(content)
    _expect_error(
        world,
        ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "odd.json"],
        "odd.json",
        capsys,
    )


def test_copick_config_that_is_a_list(world, capsys):
    (world / "list.json").write_text("[1, 2]")
    _expect_error(world, ["score", "--project", world / "list.json", world / "sub.csv"], "list.json", capsys)


@pytest.mark.parametrize(
    "content", ["{garbage", "[1, 2]", '{"points": [{"location": {"x": "a"}}]}', '{"points": 5}', "\x00\x01"]
)
@pytest.mark.parametrize("side", ["truth", "predictions"])
def test_broken_copick_picks_file_is_named(world, content, side, capsys):
    bad = world / "proj" / "overlay" / "ExperimentRuns" / "TS_1" / "Picks" / "curation_0_ribosome.json"
    assert bad.is_file()
    bad.write_text(content)
    argv = ["score", "--project", world / "proj", world / "proj", "--user", "curation", "--session", "0"]
    if side == "predictions":  # the ground truth from a CSV, the broken file read as predictions
        argv[2] = world / "sol.csv"
    _expect_error(world, argv, "cannot read copick picks file " + str(bad), capsys)


@pytest.mark.parametrize(
    "csv,words",
    [
        ("particle_type,radius_A\nribosome,150\nribosome,140\n", "particle names repeat: 'ribosome' at rows 2 and 3"),
        ("particle_type,radius_A\nribosome,150\nthyroglobulin,nan\n", "row 3 ('thyroglobulin'): radius_A must be > 0"),
        ("particle_type,radius_A\nribosome,-inf\n", "row 2 ('ribosome'): radius_A must be > 0 and finite"),
        ("particle_type,radius_A,weight\nribosome,150,-2\n", "row 2 ('ribosome'): weight must be >= 0"),
        ("particle_type,radius_A,weight\nribosome,150,inf\n", "weight must be >= 0 and finite"),
        ("name,radius_A\n", "no particle rows"),
    ],
)
def test_particles_csv_rows_named(world, csv, words, capsys):
    "The CSV of --particles is read by cryo_metric.particles.load_particles: a bad row is named with its file."
    (world / "p.csv").write_text(csv)
    argv = ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"]
    _expect_error(world, argv, f"--particles: particle CSV {world / 'p.csv'}", capsys)
    _expect_error(world, argv, words, capsys)


def test_particles_csv_with_name_column_scores(world, capsys):
    (world / "p.csv").write_text("name,radius_A,weight\nribosome,150,1\napo-ferritin,60,1\nthyroglobulin,130,0\n")
    argv = ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"]
    res, err = _score_json(argv, capsys)
    assert sorted(res["per_class"]) == ["apo-ferritin", "ribosome", "thyroglobulin"] and err == ""
    assert res["score"] == pytest.approx(1.0) and res["per_class"]["thyroglobulin"]["weight"] == 0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("side", ["truth", "predictions"])
def test_nonfinite_copick_picks_named(world, value, side, capsys):
    "A NaN or infinite coordinate in a copick picks file is refused naming the file, run and particle."
    import copick

    cfg = world / "proj" / "copick.json"
    run = copick.from_file(str(cfg)).get_run("TS_1")
    run.new_picks("ribosome", session_id="0", user_id="pred").from_numpy(np.array([[1.0, 2.0, 3.0], [value, 1.0, 1.0]]))
    bad = world / "proj" / "overlay" / "ExperimentRuns" / "TS_1" / "Picks" / "pred_0_ribosome.json"
    assert bad.is_file()
    if side == "truth":
        argv = ["score", "--project", cfg, world / "sub.csv", "--truth-user", "pred"]
    else:
        argv = ["score", "--project", world / "sol.csv", cfg, "--user", "pred"]
    words = f"copick picks file {bad}: run 'TS_1', particle 'ribosome': 1 of 2 pick(s) have a NaN or infinite"
    _expect_error(world, argv, words, capsys)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_nonfinite_kaggle_picks_named(world, value, capsys):
    train = _kaggle(world)
    bad = train / "overlay" / "ExperimentRuns" / "TS_2" / "Picks" / "thyroglobulin.json"
    doc = json.loads(bad.read_text())
    doc["points"][0]["location"]["y"] = "__BAD__"
    bad.write_text(json.dumps(doc).replace('"__BAD__"', value))
    words = f"copick picks file {bad}: run 'TS_2', particle 'thyroglobulin': 1 of 1 pick(s) have a NaN"
    _expect_error(world, ["score", "--project", train, world / "sub.csv"], words, capsys)


def test_library_message_over_several_lines_is_one_line(world, capsys):
    "A YAML parser's message (several lines, `^` markers) becomes one line; a deliberate list keeps its lines."
    (world / "p.yaml").write_text("particles:\n  - name: ribosome\n   radius_A: 150\n")
    argv = ["score", "--project", world / "sol.csv", world / "sub.csv", "--particles", world / "p.yaml"]
    _expect_error(world, argv, "while parsing a block collection in", capsys)
    listed = (
        "checkpoint does not fit unet_v1:\n  1 missing keys:\n    enc.0.weight\nNo registered architecture fits it."
    )
    assert error_text(ValueError(listed)) == listed
    assert error_text(ValueError("cannot read p.yaml: mapping values\n  in line 3:\n    ^")) == (
        "cannot read p.yaml: mapping values in line 3:"
    )


def test_silent_copick_predictions_never_include_the_truth(world, capsys):
    "A project scored against itself: the predictions of any user leave out the ground truth's own picks."
    cfg = world / "proj" / "copick.json"
    assert main(["score", "--project", str(cfg), str(cfg), "--runs", "TS_1", "--json"]) == 0
    mixed = json.loads(capsys.readouterr().out)
    # the only other user is cura-tion, whose one ribosome pick matches the truth's: the same as naming that user
    assert main(["score", "--project", str(cfg), str(cfg), "--runs", "TS_1", "--user", "cura-tion", "--json"]) == 0
    assert mixed == json.loads(capsys.readouterr().out)
    # naming the truth's user explicitly still reads it (a deliberate check of a project against itself)
    assert main(["score", "--project", str(cfg), str(cfg), "--runs", "TS_1", "--user", "curation", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["score"] == mixed["score"] > 0
    # with the truth excluded and no other user's picks, nothing is predicted: a miss, not a perfect score
    for f in (world / "proj" / "overlay").rglob("cura-tion_0_*.json"):
        f.unlink()
    assert main(["score", "--project", str(cfg), str(cfg), "--runs", "TS_1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["score"] == 0.0
