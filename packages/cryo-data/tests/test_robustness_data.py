"""Robustness suite, cryo-data: bad inputs and damaged data give one readable `cryo-data: error:` line (or a clear
exception from the API), exit 2, no traceback, and leave every input and unrelated file as it was.
Categories: names, data loss, silent (would read or write wrong data), message (was a traceback), permissions."""

import argparse
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


SIM = ["simulate", "--shape", "32", "64", "64", "--quiet"]


def show_argv(world: Path, run: str = "TS_0") -> list:
    return ["show", "--project", world / "p", "--run", run]


# ---- names that would escape the project ----
@pytest.mark.parametrize("run", ["../../x", "../escape", "a/b", "..", "TS 1"])
def test_names_layout_run_refused(world, run, capsys):
    lay = layout(world, [(run, "ribosome", 300.0, 300.0, 150.0)])
    expect_error(world, SIM + ["--out", world / "new", "--layout", lay], "invalid run name", capsys)


@pytest.mark.parametrize("types", ["a/b", "../wbp", "x y"])
def test_names_tomo_type_refused(world, types, capsys):
    expect_error(world, SIM + ["--out", world / "new", "--tomo-type", types], "invalid run name", capsys)


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
    expect_error(world, ["info", "--project", world / "p"], "invalid run name 'TS 9'", capsys)


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
    expect_error(world, SIM + ["--out", world / "mine", "--overwrite"], "not made by cryo-data simulate", capsys)


def test_dataloss_existing_without_overwrite(world, capsys):
    expect_error(world, SIM + ["--out", world / "p"], "exists", capsys)


@pytest.mark.parametrize("bad", [["--n-runs", "0"], ["--tomo-type", "a/b"], ["--layout", "missing.csv"]])
def test_dataloss_overwrite_with_bad_option_keeps_old(world, bad, capsys):
    expect_error(world, SIM + ["--out", world / "p", "--overwrite"] + bad, "", capsys)  # the old project is intact


def test_dataloss_overwrite_file_refused(world, capsys):
    (world / "f.txt").write_text("x")
    expect_error(world, SIM + ["--out", world / "f.txt", "--overwrite"], "not made by", capsys)


def test_dataloss_overwrite_own_project_replaces_it(world, capsys):
    "Control: a project the tool made is replaced, completely, with nothing left beside it."
    assert (world / "p" / MARKER).exists()
    code, out, err = cli(SIM + ["--out", world / "p", "--overwrite", "--n-runs", "1", "--seed", "7"], capsys)
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
    expect_error(world, SIM + ["--out", world / "new", "--n-runs", runs], msg, capsys)


@pytest.mark.parametrize("shape", [["0", "64", "64"], ["32", "-4", "64"]])
def test_silent_simulate_shape(world, shape, capsys):
    expect_error(world, ["simulate", "--out", world / "new", "--shape", *shape], "shape must be", capsys)


def test_silent_simulate_run_without_particles(world):
    "A run too small for any particle is noise at the usual scale, with a warning, not one constant value."
    code, out, err = cli(SIM + ["--out", world / "new", "--n-runs", "1", "--crowding", "0.01"])
    assert code == 0, err
    assert err.splitlines() == [l for l in err.splitlines() if l.startswith("cryo-data: warning: no particle density")]
    assert len(err.splitlines()) == 1  # one line per distinct warning
    tomo = open_project(world / "new").tomogram("TS_0", "denoised").numpy()
    assert np.isfinite(tomo).all() and tomo.std() > 0 and np.unique(tomo).size > 1000


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_silent_layout_nonfinite(world, value, capsys):
    lay = layout(world, [("TS_1", "ribosome", value, 300.0, 150.0), ("TS_1", "ribosome", 300.0, 300.0, 150.0)])
    expect_error(world, SIM + ["--out", world / "new", "--layout", lay], "1 NaN, infinite or empty value(s)", capsys)


def test_silent_layout_empty_coordinate(world, capsys):
    (world / "lay.csv").write_text("experiment,particle_type,x,y,z\nTS_1,ribosome,,300,150\n")
    expect_error(
        world, SIM + ["--out", world / "new", "--layout", world / "lay.csv"], "NaN, infinite or empty value", capsys
    )


def test_silent_layout_unknown_particle(world, capsys):
    lay = layout(world, [("TS_1", "proteasome", 300.0, 300.0, 150.0)])
    expect_error(world, SIM + ["--out", world / "new", "--layout", lay], "unknown particle type", capsys)


def test_silent_config_points_at_nothing(world, capsys):
    cfg = json.loads((world / "p" / "copick.json").read_text())
    cfg["overlay_root"] = "local://" + str(world / "nowhere")
    (world / "empty.json").write_text(json.dumps(cfg))
    expect_error(
        world, ["info", "--project", world / "empty.json"], "overlay_root", capsys
    )  # a root that does not exist is named


def test_silent_config_with_an_empty_root(world, capsys):
    cfg = json.loads((world / "p" / "copick.json").read_text())
    (world / "nothing").mkdir()
    cfg["overlay_root"] = "local://" + str(world / "nothing")
    (world / "empty2.json").write_text(json.dumps(cfg))
    expect_error(world, ["info", "--project", world / "empty2.json"], "has no runs", capsys)


def _set_scale(world, value):
    z = level0(world)
    attrs = json.loads((z / ".zattrs").read_text())
    for ds in attrs["multiscales"][0]["datasets"]:
        ds["coordinateTransformations"][0]["scale"] = [value] * 3
    (z / ".zattrs").write_text(json.dumps(attrs))


@pytest.mark.parametrize("value", [0.0, -10.0, "nan", None, "10"])
def test_silent_voxel_size_not_positive(world, value, capsys):
    _set_scale(world, value)
    expect_error(world, ["info", "--project", world / "p"], "voxel size", capsys)


def test_silent_missing_chunk(world, capsys):
    (level0(world) / "0" / "0" / "0" / "0").unlink()
    expect_error(world, show_argv(world) + ["--out", world / "fig.png"], "chunk(s) missing", capsys)
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
    expect_error(world, show_argv(world) + ["--out", world / "fig.png"], "not a real number type", capsys)


def test_silent_overflowing_dtype(world, capsys):
    _rewrite_level0(world, np.full((32, 64, 64), 1e300, np.float64))
    expect_error(world, show_argv(world) + ["--out", world / "fig.png"], "beyond float32", capsys)


def test_silent_nan_picks_not_written(world):
    prj, before = open_project(world / "p"), snapshot(world)
    pk = pl.DataFrame({"run": ["TS_0"], "particle_type": ["ribosome"], "x": [float("nan")], "y": [1.0], "z": [1.0]})
    with pytest.raises(ValueError, match="NaN/inf"):
        write_picks(prj, pk, "cryo", "1")
    assert snapshot(world) == before


# ---- tracebacks become one-line messages ----
def test_message_garbage_chunk(world, capsys):
    (level0(world) / "0" / "0" / "0" / "0").write_bytes(b"garbage" * 10)
    expect_error(world, show_argv(world) + ["--out", world / "fig.png"], "cannot decode chunk '0/0/0/0'", capsys)


def test_message_truncated_chunk(world, capsys):
    c = level0(world) / "0" / "0" / "0" / "0"
    c.write_bytes(c.read_bytes()[:50])
    expect_error(world, show_argv(world) + ["--out", world / "fig.png"], "run 'TS_0'", capsys)


def test_message_2d_array(world, capsys):
    _rewrite_level0(world, np.ones((64, 64), np.float32))
    expect_error(world, show_argv(world) + ["--out", world / "fig.png"], "expected a 3-D", capsys)


def test_message_empty_array(world, capsys):
    _rewrite_level0(world, np.ones((0, 64, 64), np.float32), chunks=(1, 64, 64))
    expect_error(world, show_argv(world) + ["--out", world / "fig.png"], "the volume is empty", capsys)


def test_message_garbage_zattrs(world, capsys):
    (level0(world) / ".zattrs").write_text(json.dumps({"multiscales": "nope"}))
    expect_error(world, ["info", "--project", world / "p"], "OME-Zarr", capsys)


def test_message_garbage_config(world, capsys):
    (world / "bad.json").write_text("{not json")
    expect_error(world, ["info", "--project", world / "bad.json"], "cannot open copick config", capsys)


def test_message_missing_project(world, capsys):
    expect_error(world, ["info", "--project", world / "nope"], "no such project", capsys)


def test_message_show_unknown_run(world, capsys):
    expect_error(
        world,
        ["show", "--project", world / "p", "--run", "TS_99", "--out", world / "fig.png"],
        "run 'TS_99' not found",
        capsys,
    )


def test_message_output_under_a_file(world, capsys):
    "An unwritable output location (here: below a file) is one line, not a traceback."
    expect_error(world, show_argv(world) + ["--out", world / "unrelated.txt" / "fig.png"], "unrelated.txt", capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_message_read_only_output_folder(world, capsys):
    (world / "ro").mkdir()
    os.chmod(world / "ro", 0o555)
    try:
        expect_error(world, show_argv(world) + ["--out", world / "ro" / "fig.png"], "Permission denied", capsys)
    finally:
        os.chmod(world / "ro", 0o755)


def test_message_layout_missing_column(world, capsys):
    pl.DataFrame({"experiment": ["TS_1"], "x": [1.0]}).write_csv(world / "lay.csv")
    expect_error(world, SIM + ["--out", world / "new", "--layout", world / "lay.csv"], "missing column(s)", capsys)


def test_message_layout_missing_file(world, capsys):
    expect_error(world, SIM + ["--out", world / "new", "--layout", world / "missing.csv"], "no such layout", capsys)


def test_message_simulate_under_a_file(world, capsys):
    expect_error(world, SIM + ["--out", world / "unrelated.txt" / "new"], "unrelated.txt", capsys)


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


# ---- issue 41: array metadata checked before zarr reads or allocates ----
def _set_zarray(world: Path, **changes) -> Path:
    f = level0(world) / "0" / ".zarray"
    meta = json.loads(f.read_text())
    meta.update(changes)
    f.write_text(json.dumps(meta))
    return f


@pytest.mark.parametrize("dtype", ["<c8", "|O", "|V4", "<M8[s]", "<c16", "|S4", "<m8[s]", "float-ish"])
@pytest.mark.parametrize("command", ["info", "show"])
def test_message_zarray_dtype_refused(world, dtype, command, capsys):
    _set_zarray(world, dtype=dtype)
    argv = ["info", "--project", world / "p"] if command == "info" else show_argv(world) + ["--out", world / "f.png"]
    expect_error(world, argv, f"0/.zarray: dtype {dtype!r}", capsys)
    with pytest.raises(ValueError, match="denoised.zarr/0/.zarray: dtype"):
        open_project(world / "p").tomogram("TS_0")


@pytest.mark.parametrize("dtype", [">f4", "<i2", "|u1", "<f8"])
def test_correct_zarray_other_real_dtypes_read(world, dtype):
    "Neighbours: real-number voxel types of any width and byte order read as float32."
    data = np.arange(32 * 64 * 64).reshape(32, 64, 64) % 100
    _rewrite_level0(world, data.astype(dtype), chunks=(16, 32, 32))
    vol = open_project(world / "p").tomogram("TS_0").numpy()
    assert vol.dtype == np.float32 and np.array_equal(vol, data.astype(np.float32))


@pytest.mark.parametrize(
    "changes,words",
    [
        ({"chunks": [0, 0, 0]}, "chunks [0, 0, 0] must give one size >= 1"),
        ({"chunks": [0, 64, 64]}, "chunks [0, 64, 64]"),
        ({"chunks": [-1, 64, 64]}, "chunks [-1, 64, 64]"),
        ({"chunks": [32, 32]}, "one size >= 1 per axis"),
        ({"chunks": None}, "chunks None"),
        ({"shape": [32, -64, 64]}, "shape [32, -64, 64]"),
        ({"shape": [32.5, 64, 64]}, "shape [32.5, 64, 64]"),
    ],
)
def test_message_zarray_chunks_and_shape_refused(world, changes, words, capsys):
    "chunks [0, 0, 0] raised ZeroDivisionError; each bad size is named with its file."
    _set_zarray(world, **changes)
    expect_error(world, show_argv(world) + ["--out", world / "f.png"], words, capsys)
    expect_error(world, ["info", "--project", world / "p"], "denoised.zarr/0/.zarray", capsys)


def test_message_huge_declared_shape_refused_before_allocating(world, capsys):
    "A declared shape of 2000x20000x20000 (3.2 TB as float32): info lists it, a read is refused with the size in GB."
    _set_zarray(world, shape=[2000, 20000, 20000], chunks=[64, 64, 64])
    code, out, err = cli(["info", "--project", world / "p"], capsys)
    assert code == 0 and "2000x20000x20000" in out, err
    expect_error(world, show_argv(world) + ["--out", world / "f.png"], "needs 3200.0 GB", capsys)
    with pytest.raises(ValueError, match=r"denoised.zarr/0\): reading shape \(2000, 20000, 20000\)"):
        open_project(world / "p").tomogram("TS_0").numpy()


@pytest.mark.parametrize("text", ["{nope", "", "[1, 2, 3]", '"a string"'])
def test_message_garbage_zarray_names_file(world, text, capsys):
    (level0(world) / "0" / ".zarray").write_text(text)
    expect_error(world, ["info", "--project", world / "p"], "denoised.zarr/0/.zarray", capsys)
    expect_error(world, show_argv(world) + ["--out", world / "f.png"], "denoised.zarr/0/.zarray", capsys)


def test_message_garbage_zattrs_text_names_file(world, capsys):
    "Neighbour: .zattrs that is not JSON at all (the multiscales metadata) names the zarr folder."
    (level0(world) / ".zattrs").write_text("{garbage")
    expect_error(world, ["info", "--project", world / "p"], "denoised.zarr", capsys)


def test_message_garbage_zgroup_names_file(world, capsys):
    (level0(world) / ".zgroup").write_text("{garbage")
    expect_error(world, ["info", "--project", world / "p"], "denoised.zarr", capsys)


# ---- issue 41: the copick config ----
@pytest.mark.parametrize(
    "text,words",
    [
        ("[1, 2, 3]", "expected a JSON object"),
        ("[]", "got a list"),
        ('"just a string"', "got a str"),
        ("42", "got a int"),
    ],
)
def test_message_config_not_an_object(world, text, words, capsys):
    (world / "c.json").write_text(text)
    expect_error(
        world, ["info", "--project", world / "c.json"], f"c.json: {words}" if "expected" in words else words, capsys
    )


@pytest.mark.parametrize(
    "value,words", [(None, "'overlay_root' is missing"), (5, "'overlay_root' must be"), ("", "'overlay_root' must be")]
)
def test_message_config_overlay_root(world, value, words, capsys):
    cfg = json.loads((world / "p" / "copick.json").read_text())
    if value is None:
        del cfg["overlay_root"]
    else:
        cfg["overlay_root"] = value
    (world / "p" / "copick.json").write_text(json.dumps(cfg))
    expect_error(world, ["info", "--project", world / "p"], f"copick.json: key {words}", capsys)


# ---- issue 41: voxel sizes, validated in one place (cryo_metric.guards.check_voxel_size) ----
@pytest.mark.parametrize("value", [1e30, 1e-30, True, 0.05, 150.0, "10"])
def test_silent_voxel_size_implausible_refused(world, value, capsys):
    "OME-Zarr scale 1e30, 1e-30 or `true` were accepted; neighbours just outside 0.1-100 A and a string too."
    _set_scale(world, value)
    expect_error(world, ["info", "--project", world / "p"], "voxel size", capsys)
    expect_error(world, show_argv(world) + ["--out", world / "f.png"], "denoised.zarr", capsys)


@pytest.mark.parametrize("value", [0.1, 7.84, 100.0])
def test_correct_voxel_size_plausible_read(world, value, capsys):
    _set_scale(world, value)
    assert open_project(world / "p").tomogram("TS_0").voxel_size_A == (value, value, value)


def _mrc(path: Path, cella: float | None = None, voxel: float = 10.0) -> Path:
    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(np.zeros((8, 8, 8), np.float32))
        m.voxel_size = voxel
        if cella is not None:
            m.header.cella.x = m.header.cella.y = m.header.cella.z = cella
    return path


@pytest.mark.parametrize("cella", [1e31, 1e-31, 0.4])
def test_silent_mrc_cella_implausible_refused(world, cella):
    "An MRC cella of 1e31 (voxel size 1.25e30 A) was accepted; 0.4 A over 8 voxels is 0.05 A, also refused."
    mrc, before = _mrc(world / "t.mrc", cella), snapshot(world)
    with pytest.raises(ValueError, match=r"voxel size .* from the header of .*t\.mrc"):
        import_mrc(open_project(world / "p"), "TS_new", mrc, "wbp")
    assert snapshot(world) == before


def test_correct_mrc_voxel_size_given_or_forced(world):
    "Neighbours: a wrong header is overridden by voxel_size_A (itself checked); force accepts an odd but real size."
    mrc = _mrc(world / "t.mrc", 1e31)
    prj = open_project(world / "p")
    with pytest.raises(ValueError, match="voxel size 1e\\+31 A from voxel_size_A"):
        import_mrc(prj, "TS_new", mrc, "wbp", voxel_size_A=1e31)
    import_mrc(prj, "TS_new", mrc, "wbp", voxel_size_A=7.84)
    assert prj.voxel_spacings("TS_new") == [7.84]
    import_mrc(prj, "TS_big", _mrc(world / "b.mrc", voxel=150.0), "wbp", force=True)
    assert prj.voxel_spacings("TS_big") == [150.0]


@pytest.mark.parametrize("value", ["1e30", "0", "-7.84", "nan", "inf", "0.05"])
def test_silent_simulate_voxel_size_refused(world, value, capsys):
    expect_error(world, SIM + ["--out", world / "new", "--voxel-size", value], "voxel size", capsys)


# ---- issue 41: NaN or unreadable ground-truth picks are refused by the reader ----
def _truth_file(world: Path, run: str = "TS_0", name: str = "ribosome") -> Path:
    "The ground-truth file of a particle with picks in `run` (the fixture has ribosomes there; checked by the caller)."
    return world / "p" / "overlay" / "ExperimentRuns" / run / "Picks" / f"curation_0_{name}.json"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_silent_nan_truth_pick_refused(world, value, capsys):
    "A NaN ground-truth pick trained and scored silently: the reader names the file, run and particle."
    name = read_picks(open_project(world / "p"), ["TS_0"])["particle_type"][0]
    f = _truth_file(world, name=name)
    d = json.loads(f.read_text())
    d["points"][0]["location"]["y"] = value
    f.write_text(json.dumps(d))
    with pytest.raises(ValueError, match=rf"curation_0_{name}\.json: run 'TS_0', particle '{name}' .*1 of \d+ pick"):
        read_picks(open_project(world / "p"))
    assert len(read_picks(open_project(world / "p"), ["TS_1"])) > 0  # the other run still reads
    expect_error(world, show_argv(world) + ["--out", world / "f.png"], f"curation_0_{name}.json", capsys)


@pytest.mark.parametrize(
    "text", ["{garbage", '{"pickable_object_name": "ribosome", "points": "x"}', '{"points": [{"location": null}]}']
)
def test_message_garbage_picks_json_names_file(world, text, capsys):
    _truth_file(world).write_text(text)
    with pytest.raises(ValueError, match=r"curation_0_ribosome\.json: cannot read the picks of run 'TS_0'"):
        read_picks(open_project(world / "p"))
    expect_error(world, show_argv(world) + ["--out", world / "f.png"], "curation_0_ribosome.json", capsys)


# ---- issue 41: simulate --layout with picks outside the tomogram; --crowding ----
def test_silent_layout_pick_outside_dropped_with_warning(world, capsys):
    "Dropped, as --family drops its crops' outsiders, and said: how many, per run."
    lay = layout(
        world,
        [
            ("TS_1", "ribosome", 300.0, 300.0, 150.0),
            ("TS_1", "ribosome", 5000.0, 300.0, 150.0),  # x beyond 64 voxels of 10.012 A
            ("TS_1", "apo-ferritin", 300.0, 300.0, 321.0),  # z just beyond 32 voxels
            ("TS_1", "apo-ferritin", 640.0, 640.0, 320.0),  # on the far corner: inside
        ],
    )
    code, out, err = cli(SIM + ["--out", world / "new", "--layout", lay], capsys)
    assert code == 0, err
    assert "cryo-data: warning: layout: 2 of 4 picks lie outside the tomogram" in err and "(TS_1: 2)" in err
    pk = read_picks(open_project(world / "new"))
    assert sorted(pk["x"].to_list()) == [300.0, 640.0]


def test_silent_layout_all_outside_refused(world, capsys):
    lay = layout(world, [("TS_1", "ribosome", 30000.0, 300.0, 150.0), ("TS_1", "ribosome", 300.0, 30000.0, 150.0)])
    expect_error(world, SIM + ["--out", world / "new", "--layout", lay], "all 2 picks lie outside the tomogram", capsys)


@pytest.mark.parametrize("value", ["1e9", "101", "-1", "nan", "inf", "-inf"])
def test_silent_simulate_crowding_range(world, value, capsys):
    "--crowding 1e9 hung (a billion placements); the range is 0-100."
    expect_error(
        world,
        SIM + ["--out", world / "new", f"--crowding={value}"],
        "--crowding must be a number from 0 to 100",
        capsys,
    )


def test_silent_simconfig_crowding_range():
    from cryo_data.simulate import SimConfig

    for bad in (1e9, -1.0, float("nan"), True, "2"):
        with pytest.raises(ValueError, match="crowding must be a number from 0 to 100"):
            SimConfig(crowding=bad)
    assert SimConfig(crowding=100).crowding == 100


# ---- issue 41: show --out never overwrites silently, and writes where it says ----
def test_dataloss_show_out_existing_file_refused(world, capsys):
    (world / "mine.png").write_bytes(b"my own figure")
    expect_error(world, show_argv(world) + ["--out", world / "mine.png"], "pass --overwrite", capsys)
    assert (world / "mine.png").read_bytes() == b"my own figure"


def test_correct_show_out_overwrite_replaces(world, capsys):
    (world / "mine.png").write_bytes(b"old")
    code, out, err = cli(show_argv(world) + ["--out", world / "mine.png", "--overwrite"], capsys)
    assert code == 0, err
    assert (world / "mine.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in world.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_silent_show_out_existing_dir_writes_inside_and_says_where(world, capsys):
    (world / "figs").mkdir()
    code, out, err = cli(show_argv(world) + ["--out", world / "figs"], capsys)
    assert code == 0, err
    written = world / "figs" / "TS_0_denoised.png"
    assert out.strip() == f"wrote {written}" and written.read_bytes()[:4] == b"\x89PNG"
    assert os.listdir(world / "figs") == ["TS_0_denoised.png"]
    expect_error(world, show_argv(world) + ["--out", world / "figs"], "TS_0_denoised.png exists", capsys)


@pytest.mark.parametrize("name,magic", [("fig", b"\x89PNG"), ("fig.pdf", b"%PDF"), ("fig.weird", b"\x89PNG")])
def test_silent_show_out_written_exactly_where_reported(world, name, magic, capsys):
    "No suffix or an unknown one: a PNG at exactly that path (matplotlib would have added .png to the name)."
    code, out, err = cli(show_argv(world) + ["--out", world / name], capsys)
    assert code == 0, err
    assert out.strip() == f"wrote {world / name}" and (world / name).read_bytes()[:4] == magic
    assert sorted(p.name for p in world.iterdir()) == sorted(["p", "unrelated.txt", name])


# ---- issue 41: modes follow the umask like a plain open() ----
def test_permissions_portal_config_and_figure_follow_umask(world, capsys):
    from cryo_data.portal import _atomic_json

    old = os.umask(0o022)
    try:
        _atomic_json({"name": "x"}, world / "portal.json")  # what portal_config writes with
        code, out, err = cli(show_argv(world) + ["--out", world / "fig.png"], capsys)
    finally:
        os.umask(old)
    assert code == 0, err
    assert (world / "portal.json").stat().st_mode & 0o777 == 0o644
    assert (world / "fig.png").stat().st_mode & 0o777 == 0o644


def test_permissions_kaggle_work_copies_follow_umask(tmp_path):
    kg = simulate_project(tmp_path / "k", runs=1, shape=(16, 32, 32), crowding=40.0, kaggle=True, progress=False)
    old = os.umask(0o022)
    try:
        prj = open_project(kg, work_dir=tmp_path / "work")
    finally:
        os.umask(old)
    copies = list((tmp_path / "work" / "overlay").rglob("*.json"))
    assert copies and {f.stat().st_mode & 0o777 for f in copies} == {0o644}
    assert len(read_picks(prj)) > 0


# ---- issue 41: markers say which tool and kind made a folder; only ours is replaced ----
def test_dataloss_marker_names_tool_and_kind(world):
    from cryo_metric.guards import MARKER as GUARDS_MARKER
    from cryo_metric.guards import read_marker

    assert MARKER == GUARDS_MARKER  # re-exported by cryo_data.simproject for old imports
    m = read_marker(world / "p")
    assert (m.tool, m.kind) == ("cryo-data simulate", "project")


@pytest.mark.parametrize(
    "tool,kind", [("cryo-infer run", "predictions"), ("cryo-train fit", "training"), ("cryo-data simulate", "figures")]
)
def test_dataloss_overwrite_folder_of_another_tool_or_kind_refused(world, tool, kind, capsys):
    from cryo_metric.guards import write_marker

    (world / "theirs").mkdir()
    (world / "theirs" / "result.csv").write_text("precious")
    write_marker(world / "theirs", tool, kind)
    expect_error(world, SIM + ["--out", world / "theirs", "--overwrite"], f"names {tool} ({kind})", capsys)


def test_correct_overwrite_legacy_text_marker_replaced(world, capsys):
    "A project of cryo-data 0.1 (text marker `written by cryo-data simulate`) may still be replaced."
    (world / "p" / MARKER).write_text("written by cryo-data simulate; `--overwrite` may replace this folder\n")
    code, out, err = cli(SIM + ["--out", world / "p", "--overwrite", "--n-runs", "1", "--seed", "3"], capsys)
    assert code == 0, err
    assert open_project(world / "p").runs() == ["TS_3"]


def test_dataloss_overwrite_through_symlink_refused(world, capsys):
    (world / "link").symlink_to(world / "p")
    expect_error(world, SIM + ["--out", world / "link", "--overwrite"], "is a symlink", capsys)


def test_dataloss_overwrite_project_holding_the_layout_refused(world, capsys):
    "The layout CSV inside the project to be replaced would be deleted with it."
    lay = world / "p" / "lay.csv"
    pl.DataFrame(
        [("TS_1", "ribosome", 300.0, 300.0, 150.0)], schema=["experiment", "particle_type", "x", "y", "z"], orient="row"
    ).write_csv(lay)
    expect_error(world, SIM + ["--out", world / "p", "--overwrite", "--layout", lay], "overlaps the input", capsys)


# ---- issue 39: the shared vocabulary, --version, and the spellings of 0.1 (each still works, with a warning) ----
def test_vocabulary_version(capsys):
    import cryo_data

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"cryo-data {cryo_data.__version__}"


def test_vocabulary_options_of_each_subcommand():
    from cryo_data.cli import build_parser
    from cryo_metric.cliargs import CONCEPTS

    subs = [a for a in build_parser()._actions if a.dest == "command"][0].choices
    flags = {n: {o for a in sp._actions for o in a.option_strings} for n, sp in subs.items()}
    assert {
        "--out",
        "--n-runs",
        "--tomo-type",
        "--voxel-size",
        "--particles",
        "--truth-user",
        "--truth-session",
        "--overwrite",
        "--seed",
        "--quiet",
    } <= flags["simulate"]
    assert {"--project", "--run", "--tomo-type", "--out", "--overwrite", "--truth-user", "--truth-session"} <= flags[
        "show"
    ]
    assert {"--project", "--truth-user", "--truth-session"} <= flags["info"]
    assert {"--out", "--overwrite", "--truth-user", "--truth-session"} <= flags["portal"]
    canonical = {s.flag for s in CONCEPTS.values()}
    for n, sp in subs.items():  # an option named after a concept has the concept's dest
        for a in sp._actions:
            for o in a.option_strings if a.help != argparse.SUPPRESS else ():  # not the old spellings kept
                if o in canonical:
                    assert a.dest == next(s.dest for s in CONCEPTS.values() if s.flag == o), (n, o)


@pytest.mark.parametrize(
    "old,new,warning",
    [
        (["A", "--n-runs", "1"], ["--out", "B", "--n-runs", "1"], "the positional OUT is deprecated"),
        (["--out", "A", "--runs", "1"], ["--out", "B", "--n-runs", "1"], "--runs is deprecated"),
        (
            ["--out", "A", "--n-runs", "1", "--types", "denoised,wbp"],
            ["--out", "B", "--n-runs", "1", "--tomo-type", "denoised", "wbp"],
            "--types is deprecated",
        ),
    ],
)
def test_vocabulary_deprecated_simulate_spellings(tmp_path, old, new, warning):
    "Each 0.1 spelling gives the same project as the new one, and one warning line on stderr."
    where = {"A": tmp_path / "a", "B": tmp_path / "b"}
    code, out, err = cli(SIM + ["--seed", "4"] + [where.get(a, a) for a in old])
    assert code == 0, err
    assert (
        f"cryo-data: warning: {warning} and will be removed in the next release" in err and len(err.splitlines()) == 1
    )
    code, _, err2 = cli(SIM + ["--seed", "4"] + [where.get(a, a) for a in new])
    assert code == 0 and err2 == "", err2
    a, b = open_project(tmp_path / "a"), open_project(tmp_path / "b")
    assert a.runs() == b.runs() == ["TS_4"] and a.tomo_types("TS_4") == b.tomo_types("TS_4")
    assert np.array_equal(a.tomogram("TS_4").numpy(), b.tomogram("TS_4").numpy())


@pytest.mark.parametrize(
    "argv,warnings",
    [
        (["show", "P", "TS_0", "--out", "F"], ["positional PROJECT", "positional RUN"]),
        (["show", "--project", "P", "--run", "TS_0", "--type", "wbp", "--out", "F"], ["--type is deprecated"]),
        (["info", "P"], ["positional PROJECT"]),
    ],
)
def test_vocabulary_deprecated_show_info_spellings(world, argv, warnings):
    argv = [world / "p" if a == "P" else world / "f.png" if a == "F" else a for a in argv]
    if "wbp" in argv:  # the fixture has denoised only: add a wbp tomogram
        shutil.copytree(level0(world), level0(world, tomo="wbp"))
    code, out, err = cli(argv)
    assert code == 0, err
    assert all(f"cryo-data: warning: {w}" in err or f"warning: the {w}" in err for w in warnings), err
    assert len(err.splitlines()) == len(warnings)


def test_vocabulary_positional_and_option_disagree(world, capsys):
    expect_error(world, ["info", world / "p", "--project", world / "nope"], "given twice", capsys)


def test_vocabulary_show_needs_project_and_run(world, capsys):
    expect_error(world, ["show", "--run", "TS_0", "--out", world / "f.png"], "--project is required", capsys)
    expect_error(world, ["show", "--project", world / "p", "--out", world / "f.png"], "--run is required", capsys)


@pytest.mark.parametrize("target", ["copick.json", "picks.csv"])
def test_dataloss_show_out_is_an_input_refused(world, target, capsys):
    "Even with --overwrite, the figure never replaces the project's config or the picks it draws."
    pl.DataFrame({"experiment": ["TS_0"], "particle_type": ["ribosome"], "x": [1.0], "y": [1.0], "z": [1.0]}).write_csv(
        world / "picks.csv"
    )
    out = world / "p" / "copick.json" if target == "copick.json" else world / "picks.csv"
    argv = show_argv(world) + ["--picks", world / "picks.csv", "--out", out, "--overwrite"]
    expect_error(world, argv, "is an input", capsys)


def test_dataloss_portal_out_existing_refused_before_network(world, capsys):
    "`portal --out` keeps an existing config unless --overwrite (checked before the network is asked)."
    (world / "portal.json").write_text('{"mine": true}')
    argv = ["portal", "--datasets", "10440", "--overlay", world / "ov", "--out", world / "portal.json"]
    expect_error(world, argv + ["--truth-user", "data-portal", "--truth-session", "*"], "pass --overwrite", capsys)
    assert (world / "portal.json").read_text() == '{"mine": true}'
