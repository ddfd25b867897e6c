"""Robustness suite, cryo-data: bad inputs and damaged data give one readable `cryo-data: error:` line (or a clear
exception from the API), exit 2, no traceback, and leave every input and unrelated file as it was.
Categories: names, data loss, silent (would read or write wrong data), message (was a traceback), permissions."""

import json
import os
import shutil
from pathlib import Path

import mrcfile
import numpy as np
import polars as pl
import pytest
import zarr
from cryo_data.cli import main
from cryo_data.io import open_project
from cryo_data.picks import atomic_write_text, import_mrc, read_picks, write_picks
from cryo_data.simproject import MARKER, simulate_project
from cryo_metric.testing import CliHarness, copy_project, snapshot

# ---- shared helpers: cryo_metric.testing (the same in every package's robustness suite) ----
H = CliHarness(main, "cryo-data")
cli, assert_clean_error, expect_error = H.cli, H.assert_clean_error, H.expect_error


# ---- fixtures ----
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    d = tmp_path_factory.mktemp("pristine")
    simulate_project(d / "p", runs=2, shape=(32, 64, 64), seed=0, crowding=4.0, progress=False)
    return d / "p"


@pytest.fixture()
def world(pristine, tmp_path):
    "tmp_path holding a copy of the project and an unrelated file."
    copy_project(pristine, tmp_path / "p")
    (tmp_path / "unrelated.txt").write_text("keep me")
    return tmp_path


def level0(world: Path, run: str = "TS_0", tomo: str = "denoised") -> Path:
    return next((world / "p" / "overlay" / "ExperimentRuns" / run).glob("VoxelSpacing*")) / f"{tomo}.zarr"


def layout(world: Path, rows) -> Path:
    pl.DataFrame(rows, schema=["experiment", "particle_type", "x", "y", "z"], orient="row").write_csv(world / "lay.csv")
    return world / "lay.csv"


SIM = ["simulate", "--shape", "32", "64", "64"]


# ---- names that would escape the project ----
@pytest.mark.parametrize("run", ["../../x", "../escape", "a/b", "..", "TS 1"])
def test_names_layout_run_refused(world, run, capsys):
    lay = layout(world, [(run, "ribosome", 300.0, 300.0, 150.0)])
    expect_error(world, SIM + [world / "new", "--layout", lay], "invalid run name", capsys)


@pytest.mark.parametrize("types", ["a/b", "../wbp", "x y"])
def test_names_tomo_type_refused(world, types, capsys):
    expect_error(world, SIM + [world / "new", "--types", types], "invalid run name", capsys)


@pytest.mark.parametrize("run", ["../../x", "a/b", ".."])
def test_names_import_mrc_run_refused(world, run):
    with mrcfile.new(world / "t.mrc") as m:
        m.set_data(np.zeros((8, 8, 8), np.float32))
        m.voxel_size = 10.0
    before = snapshot(world)
    with pytest.raises(ValueError, match="invalid run name"):
        import_mrc(open_project(world / "p"), run, world / "t.mrc", "wbp")
    assert snapshot(world) == before


def test_names_project_with_bad_run_folder(world, capsys):
    (world / "p" / "overlay" / "ExperimentRuns" / "TS 9").mkdir()
    expect_error(world, ["info", world / "p"], "invalid run name 'TS 9'", capsys)


@pytest.mark.parametrize("user", ["cura_tion", "../u", "a/b"])
def test_names_write_picks_user_refused(world, user):
    prj, before = open_project(world / "p"), snapshot(world)
    pk = pl.DataFrame({"run": ["TS_0"], "particle_type": ["ribosome"], "x": [1.0], "y": [1.0], "z": [1.0]})
    with pytest.raises(ValueError, match="invalid user name"):
        write_picks(prj, pk, user, "0")
    with pytest.raises(ValueError, match="invalid user name"):
        read_picks(prj, user=user)
    assert snapshot(world) == before


# ---- data loss: --overwrite only replaces what the tool made, and only once the new content is complete ----
def test_dataloss_overwrite_foreign_folder_refused(world, capsys):
    (world / "mine").mkdir()
    (world / "mine" / "thesis.tex").write_text("years of work")
    expect_error(world, SIM + [world / "mine", "--overwrite"], "not made by cryo-data simulate", capsys)


def test_dataloss_existing_without_overwrite(world, capsys):
    expect_error(world, SIM + [world / "p"], "exists", capsys)


@pytest.mark.parametrize("bad", [["--runs", "0"], ["--types", "a/b"], ["--layout", "missing.csv"]])
def test_dataloss_overwrite_with_bad_option_keeps_old(world, bad, capsys):
    expect_error(world, SIM + [world / "p", "--overwrite"] + bad, "", capsys)  # the old project is intact


def test_dataloss_overwrite_file_refused(world, capsys):
    (world / "f.txt").write_text("x")
    expect_error(world, SIM + [world / "f.txt", "--overwrite"], "not made by", capsys)


def test_dataloss_overwrite_own_project_replaces_it(world, capsys):
    "Control: a project the tool made is replaced, completely, with nothing left beside it."
    assert (world / "p" / MARKER).exists()
    code, out, err = cli(SIM + [world / "p", "--overwrite", "--runs", "1", "--seed", "7"], capsys)
    assert code == 0, err
    assert open_project(world / "p").runs() == ["TS_7"]
    assert sorted(p.name for p in world.iterdir()) == ["p", "unrelated.txt"]


def test_dataloss_write_picks_refuses_without_overwrite(world):
    prj = open_project(world / "p")
    before = snapshot(world)
    pk = pl.DataFrame({"run": ["TS_0"], "particle_type": ["ribosome"], "x": [1.0], "y": [1.0], "z": [1.0]})
    with pytest.raises(FileExistsError, match="already exist"):
        write_picks(prj, pk, "curation", "0")
    assert snapshot(world) == before


def test_dataloss_copick_overwrite_replaces_every_class(world):
    "Overwriting picks replaces all of that user/session's picks in the run, never a mix of old and new classes."
    prj = open_project(world / "p")
    assert len(read_picks(prj, ["TS_0"])["particle_type"].unique()) > 1
    pk = pl.DataFrame({"run": ["TS_0"], "particle_type": ["ribosome"], "x": [1.0], "y": [2.0], "z": [3.0]})
    write_picks(prj, pk, "curation", "0", overwrite=True)
    back = read_picks(prj, ["TS_0"])
    assert back.select("particle_type", "x").rows() == [("ribosome", 1.0)]
    assert len(read_picks(prj, ["TS_1"])) > 0  # another run untouched


def test_dataloss_atomic_write_refuses_existing(world):
    (world / "a.csv").write_text("old")
    with pytest.raises(FileExistsError):
        atomic_write_text(world / "a.csv", "new")
    assert (world / "a.csv").read_text() == "old"


# ---- silent wrong results become errors ----
@pytest.mark.parametrize("runs,msg", [("0", "runs must be"), ("-1", "runs must be")])
def test_silent_simulate_runs(world, runs, capsys, msg):
    expect_error(world, SIM + [world / "new", "--runs", runs], msg, capsys)


@pytest.mark.parametrize("shape", [["0", "64", "64"], ["32", "-4", "64"]])
def test_silent_simulate_shape(world, shape, capsys):
    expect_error(world, ["simulate", world / "new", "--shape", *shape], "shape must be", capsys)


def test_silent_simulate_run_without_particles(world):
    "A run too small for any particle is noise at the usual scale, with a warning, not one constant value."
    with pytest.warns(UserWarning, match="no particle density"):
        code, out, err = cli(SIM + [world / "new", "--runs", "1", "--crowding", "0.01"])
    assert code == 0, err
    tomo = open_project(world / "new").tomogram("TS_0", "denoised").numpy()
    assert np.isfinite(tomo).all() and tomo.std() > 0 and np.unique(tomo).size > 1000


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_silent_layout_nonfinite(world, value, capsys):
    lay = layout(world, [("TS_1", "ribosome", value, 300.0, 150.0), ("TS_1", "ribosome", 300.0, 300.0, 150.0)])
    expect_error(world, SIM + [world / "new", "--layout", lay], "1 NaN, infinite or empty value(s)", capsys)


def test_silent_layout_empty_coordinate(world, capsys):
    (world / "lay.csv").write_text("experiment,particle_type,x,y,z\nTS_1,ribosome,,300,150\n")
    expect_error(world, SIM + [world / "new", "--layout", world / "lay.csv"], "NaN, infinite or empty value", capsys)


def test_silent_layout_unknown_particle(world, capsys):
    lay = layout(world, [("TS_1", "proteasome", 300.0, 300.0, 150.0)])
    expect_error(world, SIM + [world / "new", "--layout", lay], "unknown particle type", capsys)


def test_silent_config_points_at_nothing(world, capsys):
    cfg = json.loads((world / "p" / "copick.json").read_text())
    cfg["overlay_root"] = "local://" + str(world / "nowhere")
    (world / "empty.json").write_text(json.dumps(cfg))
    expect_error(world, ["info", world / "empty.json"], "overlay_root", capsys)  # a root that does not exist is named


def test_silent_config_with_an_empty_root(world, capsys):
    cfg = json.loads((world / "p" / "copick.json").read_text())
    (world / "nothing").mkdir()
    cfg["overlay_root"] = "local://" + str(world / "nothing")
    (world / "empty2.json").write_text(json.dumps(cfg))
    expect_error(world, ["info", world / "empty2.json"], "has no runs", capsys)


def _set_scale(world, value):
    z = level0(world)
    attrs = json.loads((z / ".zattrs").read_text())
    for ds in attrs["multiscales"][0]["datasets"]:
        ds["coordinateTransformations"][0]["scale"] = [value] * 3
    (z / ".zattrs").write_text(json.dumps(attrs))


@pytest.mark.parametrize("value", [0.0, -10.0, "nan"])
def test_silent_voxel_size_not_positive(world, value, capsys):
    _set_scale(world, value)
    expect_error(world, ["info", world / "p"], "must be finite and > 0", capsys)


def test_silent_missing_chunk(world, capsys):
    (level0(world) / "0" / "0" / "0" / "0").unlink()
    expect_error(world, ["show", world / "p", "TS_0", "--out", world / "fig.png"], "chunk(s) missing", capsys)
    with pytest.raises(ValueError, match="run 'TS_0', tomogram 'denoised': 1 chunk"):
        open_project(world / "p").tomogram("TS_0").numpy()


def _rewrite_level0(world, data, **kw):
    z = level0(world)
    shutil.rmtree(z / "0")
    zarr.open_array(
        zarr.NestedDirectoryStore(str(z / "0")),
        mode="w",
        shape=data.shape,
        dtype=data.dtype,
        chunks=kw.get("chunks", data.shape or (1,)),
    )[...] = data


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_silent_complex_dtype(world, dtype, capsys):
    _rewrite_level0(world, np.ones((32, 64, 64), dtype))
    expect_error(world, ["show", world / "p", "TS_0", "--out", world / "fig.png"], "not a real number type", capsys)


def test_silent_overflowing_dtype(world, capsys):
    _rewrite_level0(world, np.full((32, 64, 64), 1e300, np.float64))
    expect_error(world, ["show", world / "p", "TS_0", "--out", world / "fig.png"], "beyond float32", capsys)


def test_silent_nan_picks_not_written(world):
    prj, before = open_project(world / "p"), snapshot(world)
    pk = pl.DataFrame({"run": ["TS_0"], "particle_type": ["ribosome"], "x": [float("nan")], "y": [1.0], "z": [1.0]})
    with pytest.raises(ValueError, match="NaN/inf"):
        write_picks(prj, pk, "cryo", "1")
    assert snapshot(world) == before


# ---- tracebacks become one-line messages ----
def test_message_garbage_chunk(world, capsys):
    (level0(world) / "0" / "0" / "0" / "0").write_bytes(b"garbage" * 10)
    expect_error(
        world, ["show", world / "p", "TS_0", "--out", world / "fig.png"], "cannot decode chunk '0/0/0/0'", capsys
    )


def test_message_truncated_chunk(world, capsys):
    c = level0(world) / "0" / "0" / "0" / "0"
    c.write_bytes(c.read_bytes()[:50])
    expect_error(world, ["show", world / "p", "TS_0", "--out", world / "fig.png"], "run 'TS_0'", capsys)


def test_message_2d_array(world, capsys):
    _rewrite_level0(world, np.ones((64, 64), np.float32))
    expect_error(world, ["show", world / "p", "TS_0", "--out", world / "fig.png"], "expected a 3-D", capsys)


def test_message_empty_array(world, capsys):
    _rewrite_level0(world, np.ones((0, 64, 64), np.float32), chunks=(1, 64, 64))
    expect_error(world, ["show", world / "p", "TS_0", "--out", world / "fig.png"], "the volume is empty", capsys)


def test_message_garbage_zattrs(world, capsys):
    (level0(world) / ".zattrs").write_text(json.dumps({"multiscales": "nope"}))
    expect_error(world, ["info", world / "p"], "OME-Zarr", capsys)


def test_message_garbage_config(world, capsys):
    (world / "bad.json").write_text("{not json")
    expect_error(world, ["info", world / "bad.json"], "cannot open copick config", capsys)


def test_message_missing_project(world, capsys):
    expect_error(world, ["info", world / "nope"], "no such project", capsys)


def test_message_show_unknown_run(world, capsys):
    expect_error(world, ["show", world / "p", "TS_99", "--out", world / "fig.png"], "run 'TS_99' not found", capsys)


def test_message_output_under_a_file(world, capsys):
    "An unwritable output location (here: below a file) is one line, not a traceback."
    expect_error(
        world, ["show", world / "p", "TS_0", "--out", world / "unrelated.txt" / "fig.png"], "unrelated.txt", capsys
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_message_read_only_output_folder(world, capsys):
    (world / "ro").mkdir()
    os.chmod(world / "ro", 0o555)
    try:
        expect_error(
            world, ["show", world / "p", "TS_0", "--out", world / "ro" / "fig.png"], "Permission denied", capsys
        )
    finally:
        os.chmod(world / "ro", 0o755)


def test_message_layout_missing_column(world, capsys):
    pl.DataFrame({"experiment": ["TS_1"], "x": [1.0]}).write_csv(world / "lay.csv")
    expect_error(world, SIM + [world / "new", "--layout", world / "lay.csv"], "missing column(s)", capsys)


def test_message_layout_missing_file(world, capsys):
    expect_error(world, SIM + [world / "new", "--layout", world / "missing.csv"], "no such layout", capsys)


def test_message_simulate_under_a_file(world, capsys):
    expect_error(world, SIM + [world / "unrelated.txt" / "new"], "unrelated.txt", capsys)


@pytest.mark.parametrize("kind", ["2d", "complex", "missing", "garbage"])
def test_message_import_mrc(world, kind):
    p = world / "t.mrc"
    if kind == "2d":
        with mrcfile.new(p) as m:
            m.set_data(np.zeros((8, 8), np.float32))
            m.voxel_size = 10.0
    elif kind == "complex":
        with mrcfile.new(p) as m:
            m.set_data(np.zeros((4, 8, 8), np.complex64))
            m.voxel_size = 10.0
    elif kind == "garbage":
        p.write_bytes(b"\x00" * 100)
    before = snapshot(world)
    with pytest.raises((ValueError, FileNotFoundError), match=r"3D volume|complex|no such MRC|cannot read as MRC"):
        import_mrc(open_project(world / "p"), "TS_new", p, "wbp")
    assert snapshot(world) == before


# ---- permissions: outputs follow the umask (mkstemp would leave 0600) ----
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_permissions_atomic_write_follows_umask(world, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_text(world / "out.csv", "a,b\n")
    finally:
        os.umask(old)
    assert (world / "out.csv").stat().st_mode & 0o777 == mode


def test_permissions_simulated_project_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        simulate_project(tmp_path / "q", runs=1, shape=(16, 32, 32), progress=False)
    finally:
        os.umask(old)
    assert (tmp_path / "q").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "q" / "copick.json").stat().st_mode & 0o777 == 0o644
