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
    _expect_error(world, ["score", cfg, cfg, f"--user={name}", "--session", "0"], "invalid user name", capsys)


@pytest.mark.parametrize("name", ["a_b", "../../s"])
def test_names_session_refused(world, name, capsys):
    cfg = world / "proj" / "copick.json"
    _expect_error(world, ["score", cfg, cfg, "--user", "curation", f"--session={name}"], "invalid session name", capsys)


def test_names_solution_user_refused(world, capsys):
    cfg = world / "proj" / "copick.json"
    _expect_error(world, ["score", cfg, cfg, "--solution-user", "cura_tion"], "copick would rewrite", capsys)


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
    _expect_error(world, ["score", world / "sol.csv", world / "sub.csv", f"--beta={beta}"], "beta must be", capsys)


@pytest.mark.parametrize("mult", ["0", "-0.5", "nan"])
def test_silent_distance_multiplier_refused(world, mult, capsys):
    _expect_error(
        world,
        ["score", world / "sol.csv", world / "sub.csv", f"--distance-multiplier={mult}"],
        "distance_multiplier must be",
        capsys,
    )


def test_silent_all_weights_zero(world, capsys):
    pl.DataFrame(
        {"particle_type": ["ribosome", "thyroglobulin"], "radius_A": [150.0, 130.0], "weight": [0.0, 0.0]}
    ).write_csv(world / "p.csv")
    _expect_error(
        world,
        ["score", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"],
        "every particle weight is 0",
        capsys,
    )


def test_silent_copick_config_points_at_nothing(world, capsys):
    _expect_error(world, ["score", world / "sol.csv", world / "empty.json"], "finds no runs", capsys)


def test_silent_empty_solution(world, capsys):
    SOL.head(0).write_csv(world / "empty_sol.csv")
    _expect_error(world, ["score", world / "empty_sol.csv", world / "sub.csv"], "holds no picks", capsys)


def test_silent_copick_solution_wrong_user(world, capsys):
    cfg = world / "proj" / "copick.json"
    _expect_error(world, ["score", cfg, cfg, "--solution-user", "nobody"], "holds no picks", capsys)


@pytest.mark.parametrize("value", ["nan", "", "inf"])
def test_silent_nonfinite_coordinates(world, value, capsys):
    (world / "bad.csv").write_text(f"experiment,particle_type,x,y,z\nTS_1,ribosome,{value},1,1\n")
    _expect_error(world, ["score", world / "sol.csv", world / "bad.csv"], "column 'x'", capsys)


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
        world, ["score", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"], "radius_A", capsys
    )


def test_message_particles_csv_non_numeric(world, capsys):
    (world / "p.csv").write_text("particle_type,radius_A\nribosome,big\n")
    _expect_error(
        world,
        ["score", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"],
        "must hold a number",
        capsys,
    )


def test_message_particles_missing_file(world, capsys):
    _expect_error(
        world,
        ["score", world / "sol.csv", world / "sub.csv", "--particles", world / "nope.csv"],
        "no such file",
        capsys,
    )


def test_message_particles_zero_radius(world, capsys):
    pl.DataFrame({"particle_type": ["ribosome"], "radius_A": [0.0]}).write_csv(world / "p.csv")
    _expect_error(
        world,
        ["score", world / "sol.csv", world / "sub.csv", "--particles", world / "p.csv"],
        "radius_A must be > 0",
        capsys,
    )


def test_message_garbage_copick_config(world, capsys):
    (world / "bad.json").write_text("{not json")
    _expect_error(world, ["score", world / "sol.csv", world / "bad.json"], "cannot open copick config", capsys)


def test_message_missing_copick_config(world, capsys):
    _expect_error(world, ["score", world / "sol.csv", world / "missing.json"], "no such copick config", capsys)


def test_message_missing_column(world, capsys):
    SOL.drop("z").write_csv(world / "noz.csv")
    _expect_error(world, ["score", world / "sol.csv", world / "noz.csv"], "missing column(s) ['z']", capsys)


def test_message_binary_csv(world, capsys):
    (world / "bin.csv").write_bytes(bytes(range(256)) * 4)
    code, out, err = cli(["score", world / "sol.csv", world / "bin.csv"], capsys)
    assert code == 2 and "Traceback" not in err and err.startswith("cryo-metric: error:")


def test_message_unknown_particle(world, capsys):
    SOL.with_columns(particle_type=pl.lit("proteasome")).write_csv(world / "pr.csv")
    _expect_error(world, ["score", world / "sol.csv", world / "pr.csv"], "proteasome", capsys)


def test_message_duplicate_solution_points(world, capsys):
    pl.concat([SOL, SOL]).write_csv(world / "dup.csv")
    _expect_error(world, ["score", world / "dup.csv", world / "sub.csv"], "duplicate reference points", capsys)


def test_message_directory_without_config(world, capsys):
    (world / "emptydir").mkdir()
    _expect_error(world, ["score", world / "sol.csv", world / "emptydir"], "no such copick config", capsys)


def test_message_text_is_one_line():
    assert error_text(KeyError("run 'x' not found")) == "run 'x' not found"
    assert error_text(PermissionError(13, "Permission denied", "/ro/x")) == "Permission denied: /ro/x"


def test_correct_result_still_exit_0(world, capsys):
    "Control: valid inputs still score (and the copick user `cura-tion`, which copick accepts, is read)."
    code, out, err = cli(["score", world / "sol.csv", world / "sub.csv", "--json"], capsys)
    assert code == 0 and json.loads(out)["score"] == pytest.approx(score(SOL, SOL).score)
    cfg = world / "proj" / "copick.json"
    code, out, err = cli(["score", cfg, cfg, "--user", "cura-tion", "--session", "0", "--json"], capsys)
    assert code == 0 and json.loads(out)["per_class"]["ribosome"]["tp"] == 1
