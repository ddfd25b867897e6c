"""Robustness suite, cryo-infer: bad inputs give one readable `cryo-infer: error:` line, exit 2, no traceback, and leave
every input and unrelated file as it was; a rerun into an --out made with other inputs is refused, listing them.
Categories: security, names, data loss, stale (resume), silent, message, permissions."""

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
import yaml
import zarr
from cryo_data.io import open_project
from cryo_data.picks import read_picks
from cryo_data.simproject import simulate_project
from cryo_infer.cli import main
from cryo_infer.ensemble import ensemble_from_checkpoints, load_members
from cryo_metric.testing import CliHarness, copy_project, snapshot
from cryo_models import create_model, save_checkpoint

# ---- shared helpers: cryo_metric.testing (the same in every package's robustness suite) ----
H = CliHarness(main, "cryo-infer")
cli, assert_clean_error, expect_error = H.cli, H.assert_clean_error, H.expect_error


# ---- fixtures: a 2-run project (denoised + wbp), a tiny model, an ensemble ----
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    d = tmp_path_factory.mktemp("pristine")
    simulate_project(
        d / "p", runs=2, shape=(32, 64, 64), seed=0, crowding=4.0, tomo_types=("denoised", "wbp"), progress=False
    )
    torch.manual_seed(0)
    save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), d / "m.pt")
    return d


ENS = {"members": [{"checkpoint": "m.pt"}], "tta": ["identity"], "window": {"roi_size": [32, 64, 64]}, "post": "full"}


def write_ens(path: Path, **changes) -> Path:
    d = json.loads(json.dumps(ENS))
    for k, v in changes.items():
        if k == "window":
            d["window"].update(v)
        else:
            d[k] = v
    path.write_text(yaml.safe_dump(d))
    return path


@pytest.fixture()
def world(pristine, tmp_path):
    copy_project(pristine / "p", tmp_path / "p")
    shutil.copy(pristine / "m.pt", tmp_path / "m.pt")
    write_ens(tmp_path / "ens.yaml")
    (tmp_path / "unrelated.txt").write_text("keep me")
    return tmp_path


def run_args(world, *extra, out="out", ens="ens.yaml"):
    return ["run", "--project", world / "p", "--ensemble", world / ens, "--out", world / out, "--quiet", *extra]


def ok(world, capsys, *extra, **kw):
    code, out, err = cli(run_args(world, *extra, **kw), capsys)
    assert code == 0, err
    return out


# ---- security: a checkpoint's pickle never runs ----
class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("how", ["torch.save", "raw pickle", "nested in state_dict"])
def test_security_malicious_checkpoint_never_runs(world, how, capsys):
    marker = world / "PWNED"
    if how == "torch.save":
        torch.save({"format": "cryo-models", "x": Evil(marker)}, world / "m.pt")
    elif how == "raw pickle":
        (world / "m.pt").write_bytes(pickle.dumps({"state_dict": Evil(marker)}))
    else:
        torch.save({"state_dict": {"model.w": torch.ones(1), "model.v": Evil(marker)}}, world / "m.pt")
    expect_error(world, run_args(world), "refusing to load checkpoint" if how != "raw pickle" else "checkpoint", capsys)
    assert not marker.exists()
    assert not (world / "out").exists()  # nothing was written before the refusal


def test_security_error_names_the_global(world, capsys):
    torch.save({"x": Evil(world / "PWNED")}, world / "m.pt")
    expect_error(world, run_args(world), "refusing to load checkpoint", capsys)
    assert not (world / "PWNED").exists()


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", None])
def test_security_truncated_or_garbage_checkpoint(world, content, capsys):
    p = world / "m.pt"
    p.write_bytes(p.read_bytes()[:200] if content is None else content)
    expect_error(world, run_args(world), "cannot read checkpoint", capsys)


# ---- names ----
@pytest.mark.parametrize(
    "opt,value,msg",
    [
        ("--user", "cura_tion", "invalid user name"),
        ("--user", "../x", "invalid user name"),
        ("--session", "a_b", "invalid session name"),
        ("--runs", "../../x", "invalid run name"),
        ("--runs", "a/b", "invalid run name"),
    ],
)
def test_names_refused(world, opt, value, msg, capsys):
    extra = [f"{opt}={value}", "--format", "copick"] + (["--user", "cryo"] if opt == "--session" else [])
    expect_error(world, run_args(world, *extra), msg, capsys)


# ---- data loss ----
def _published_names(folder):
    """Empty files under the published checkpoint names: `preset` checks that every needed file is there."""
    from cryo_models import seed_table

    for name in seed_table()["checkpoint"].to_list():
        (folder / name).write_bytes(b"")
    return folder


def test_dataloss_preset_never_replaces_a_yaml(world, capsys):
    (world / "tuned.yaml").write_text("post: {thresholds: {ribosome: 0.3}}\n")
    _published_names(world)
    expect_error(
        world, ["preset", "2nd-place-7", "--checkpoint-dir", world, "--out", world / "tuned.yaml"], "exists", capsys
    )


def test_dataloss_preset_overwrite_when_asked(world, capsys):
    (world / "tuned.yaml").write_text("old\n")
    _published_names(world)
    code, out, err = cli(
        ["preset", "2nd-place-7", "--checkpoint-dir", world, "--out", world / "tuned.yaml", "--overwrite"], capsys
    )
    assert code == 0, err and "members" in (world / "tuned.yaml").read_text()


def test_message_preset_lists_missing_checkpoints(world, capsys):
    expect_error(
        world,
        ["preset", "2nd-place-10", "--checkpoint-dir", world, "--out", world / "s10.yaml"],
        "10 of 10 checkpoint(s) missing",
        capsys,
    )


@pytest.mark.parametrize("foreign", ["submission.csv", "picks/TS_0.csv", "notes.txt"])
def test_dataloss_foreign_out_refused(world, foreign, capsys):
    f = world / "out" / foreign
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text("id,experiment\n0,other\n")
    expect_error(world, run_args(world), "has no cryo marker", capsys)
    expect_error(world, run_args(world, "--overwrite"), "has no cryo marker", capsys)


def test_dataloss_out_is_a_file(world, capsys):
    (world / "out").write_text("x")
    expect_error(world, run_args(world), "not a folder", capsys)


def _seed_picks(world, user, obj="beta-amylase"):
    import copick

    root = copick.from_file(str(world / "p" / "copick.json"))
    root.get_run("TS_0").new_picks(obj, session_id="0", user_id=user).from_numpy(np.array([[100.0, 100.0, 100.0]]))


def test_dataloss_existing_copick_user_refused(world, capsys):
    _seed_picks(world, "cryo")
    expect_error(
        world, run_args(world, "--format", "copick", "--user", "cryo"), "already exist in runs ['TS_0']", capsys
    )


def test_dataloss_copick_overwrite_replaces_every_class(world, capsys):
    _seed_picks(world, "cryo")  # beta-amylase: a class the models never predict
    ok(world, capsys, "--format", "copick", "--user", "cryo", "--overwrite")
    back = read_picks(open_project(world / "p"), ["TS_0"], user="cryo", session="0")
    assert "beta-amylase" not in back["particle_type"].to_list()
    csv = pl.read_csv(world / "out" / "picks" / "TS_0.csv")
    assert len(back) == len(csv)


# ---- data loss: predictions never replace the project's ground truth (its truth user/session) ----
def _truth_bytes(project: Path, user: str, session: str) -> dict[str, bytes]:
    files = sorted(project.rglob(f"{user}_{session}_*.json"))
    assert files  # the project has ground-truth picks to protect
    return {str(f.relative_to(project)): f.read_bytes() for f in files}


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_dataloss_truth_user_session_refused(world, overwrite, capsys):
    "The default truth curation/0 is refused with or without --overwrite, before anything is written."
    truth = _truth_bytes(world / "p", "curation", "0")
    argv = run_args(world, "--format", "copick", "--user", "curation", "--session", "0", *overwrite)
    expect_error(world, argv, "--user curation --session 0 is the ground truth of", capsys)
    assert _truth_bytes(world / "p", "curation", "0") == truth
    assert not (world / "out").exists()


def test_dataloss_truth_message_is_not_the_overwrite_hint(world, capsys):
    code, _, err = cli(run_args(world, "--format", "copick", "--user", "curation"), capsys)
    assert_clean_error(code, err, "predictions never replace annotations")
    assert "--overwrite" not in err and "already exist" not in err


@pytest.fixture(scope="module")
def lab_pristine(tmp_path_factory):
    "A project whose copick config's cryo block names the ground truth lab/1."
    d = tmp_path_factory.mktemp("lab")
    simulate_project(
        d / "p", runs=1, shape=(32, 64, 64), seed=0, crowding=4.0, truth_user="lab", truth_session="1", progress=False
    )
    assert json.loads((d / "p" / "copick.json").read_text())["cryo"] == {"truth_user": "lab", "truth_session": "1"}
    assert len(read_picks(open_project(d / "p"))) > 0  # read_picks' default: the configured truth lab/1
    return d


@pytest.fixture()
def lab(lab_pristine, pristine, tmp_path):
    copy_project(lab_pristine / "p", tmp_path / "p")
    shutil.copy(pristine / "m.pt", tmp_path / "m.pt")
    write_ens(tmp_path / "ens.yaml")
    return tmp_path


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_dataloss_truth_from_cryo_block_refused(lab, overwrite, capsys):
    truth = _truth_bytes(lab / "p", "lab", "1")
    argv = run_args(lab, "--format", "copick", "--user", "lab", "--session", "1", *overwrite)
    expect_error(lab, argv, "--user lab --session 1 is the ground truth of", capsys)
    assert _truth_bytes(lab / "p", "lab", "1") == truth


def test_truth_other_user_or_session_still_written(lab, capsys):
    "curation/0 is no truth in a lab/1 project, nor is lab/2: both are written; the truth stays byte for byte."
    truth = _truth_bytes(lab / "p", "lab", "1")
    ok(lab, capsys, "--format", "copick", "--user", "curation", "--session", "0")
    ok(lab, capsys, "--format", "copick", "--user", "lab", "--session", "2", out="out2")
    prj = open_project(lab / "p")
    assert len(read_picks(prj, user="curation", session="0")) == len(pl.read_csv(lab / "out" / "submission.csv"))
    assert len(read_picks(prj, user="lab", session="2")) == len(pl.read_csv(lab / "out2" / "submission.csv"))
    assert _truth_bytes(lab / "p", "lab", "1") == truth


@pytest.mark.parametrize("session", ["1", "2", "7"])
def test_dataloss_truth_any_session_refused(lab, session, capsys):
    "A truth session '*' in the cryo block: every session of the truth user is refused."
    cfg = json.loads((lab / "p" / "copick.json").read_text())
    cfg["cryo"]["truth_session"] = "*"
    (lab / "p" / "copick.json").write_text(json.dumps(cfg))
    truth = _truth_bytes(lab / "p", "lab", "1")
    argv = run_args(lab, "--format", "copick", "--user", "lab", "--session", session, "--overwrite")
    expect_error(lab, argv, f"--user lab --session {session} is the ground truth of", capsys)
    assert _truth_bytes(lab / "p", "lab", "1") == truth


# ---- stale results: a rerun with other inputs is refused, naming them ----
@pytest.mark.parametrize(
    "change,field",
    [
        ("tomo", "tomo_type"),
        ("user", "user"),
        ("vs", "voxel_spacing"),
        ("weights", "ensemble"),
        ("post", "post"),
        ("data", "data"),
    ],
)
def test_stale_rerun_with_other_inputs_refused(world, change, field, capsys):
    ok(world, capsys)
    extra, ens = [], "ens.yaml"
    if change == "tomo":
        extra = ["--tomo-type", "wbp"]
    elif change == "user":
        extra = ["--format", "copick", "--user", "cryo"]
    elif change == "vs":
        extra = ["--voxel-size", "10.012"]
    elif change == "weights":
        torch.manual_seed(1)
        save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), world / "m.pt", overwrite=True)
    elif change == "post":
        write_ens(world / "ens2.yaml", post="2nd-place")
        ens = "ens2.yaml"
    elif change == "data":
        copy_project(world / "p", world / "p2")
        extra = []
    argv = run_args(world, *extra, ens=ens)
    if change == "data":
        argv[argv.index(world / "p")] = world / "p2"
    expect_error(world, argv, f"{field}:", capsys)


def test_stale_changed_tomogram_data_refused(world, capsys):
    ok(world, capsys)
    z = next((world / "p" / "overlay" / "ExperimentRuns" / "TS_0").glob("VoxelSpacing*")) / "denoised.zarr"
    a = zarr.open_array(zarr.NestedDirectoryStore(str(z / "0")), mode="r+")
    a[...] = np.random.default_rng(5).standard_normal(a.shape).astype(np.float32)
    expect_error(world, run_args(world), "run TS_0: tomogram data changed", capsys)


def test_stale_same_inputs_resume_and_kill_between_copick_and_csv(world, capsys):
    "A kill after the copick write but before the per-run CSV: the rerun redoes the run and replaces its copick picks."
    ok(world, capsys, "--format", "copick", "--user", "cryo")
    first = pl.read_csv(world / "out" / "picks" / "TS_0.csv")
    (world / "out" / "picks" / "TS_0.csv").unlink()  # as if killed between the two writes
    ok(world, capsys, "--format", "copick", "--user", "cryo")
    again = pl.read_csv(world / "out" / "picks" / "TS_0.csv")
    assert again.equals(first)
    back = read_picks(open_project(world / "p"), ["TS_0"], user="cryo", session="0")
    assert len(back) == len(first)
    man = json.loads((world / "out" / "manifest.json").read_text())
    assert {"data", "tomo_type", "voxel_spacing", "ensemble", "post", "user", "session", "runs"} <= set(man)


def test_stale_overwrite_redoes_with_new_inputs(world, capsys):
    ok(world, capsys)
    ok(world, capsys, "--tomo-type", "wbp", "--overwrite", "--runs", "TS_0")
    assert json.loads((world / "out" / "manifest.json").read_text())["tomo_type"] == "wbp"
    # TS_1's picks came from the old inputs: gone, so a later run with the new inputs redoes it instead of reusing them
    assert sorted(p.name for p in (world / "out" / "picks").iterdir()) == ["TS_0.csv"]


# ---- silent wrong results ----
@pytest.mark.parametrize(
    "members,msg",
    [
        ([{"checkpoint": "m.pt", "weight": -1}], "must be finite and >= 0"),
        ([{"checkpoint": "m.pt", "weight": 1}, {"checkpoint": "m.pt", "weight": -1}], "must be finite and >= 0"),
        ([{"checkpoint": "m.pt", "weight": 0}], "sum to 0"),
        ([{"checkpoint": "m.pt", "weight": float("nan")}], "must be finite"),
        ([{"checkpoint": "m.pt", "weight": "heavy"}], "must be a number"),
    ],
)
def test_silent_member_weights(world, members, msg, capsys):
    write_ens(world / "ens.yaml", members=members)
    expect_error(world, run_args(world), msg, capsys)


def test_silent_config_points_at_nothing(world, capsys):
    cfg = json.loads((world / "p" / "copick.json").read_text())
    cfg["overlay_root"] = "local://" + str(world / "nowhere")
    (world / "p" / "copick.json").write_text(json.dumps(cfg))
    expect_error(world, run_args(world), "overlay_root", capsys)  # a root that does not exist is named


@pytest.mark.parametrize("thr", [1.5, -0.1])
def test_silent_threshold_outside_0_1(world, thr, capsys):
    write_ens(world / "ens.yaml", post={"thresholds": {"ribosome": thr}})
    expect_error(world, run_args(world), "must be a probability in [0, 1]", capsys)


# ---- tracebacks become one-line messages ----
@pytest.mark.parametrize(
    "window,msg",
    [
        ({"roi_size": "big"}, "window.roi_size must be 3 integers"),
        ({"roi_size": [32, 64]}, "window.roi_size must be 3 integers"),
        ({"roi_size": [32, -64, 64]}, ">= 0"),
        ({"views_per_pass": 0}, "views_per_pass"),
        ({"blend": "fancy"}, "window.blend"),
        ({"normalization": "global"}, "window.normalization"),
        ({"membranes": "erase"}, "window.membranes"),
        ({"edge_weight": 0}, "window.edge_weight"),
    ],
)
def test_message_window(world, window, msg, capsys):
    write_ens(world / "ens.yaml", window=window)
    expect_error(world, run_args(world), msg, capsys)


@pytest.mark.parametrize(
    "text,msg",
    [
        ("[1, 2]\n", "must be a mapping"),
        ("members: [\n", "cannot read ensemble"),
        ("members: [m.pt]\nwindw: {}\n", "unknown key"),
        ("members: []\n", "no members"),
        ("members: [m.pt]\npost: magic\n", "unknown post preset"),
        ("members: [missing.pt]\n", "not found"),
    ],
)
def test_message_ensemble_yaml(world, text, msg, capsys):
    (world / "ens.yaml").write_text(text)
    expect_error(world, run_args(world), msg, capsys)


def test_message_roi_option(world, capsys):
    expect_error(world, run_args(world, "--roi", "0", "64", "-1"), ">= 0", capsys)


def test_message_unknown_run(world, capsys):
    expect_error(world, run_args(world, "--runs", "TS_9"), "run 'TS_9' not found", capsys)


def test_message_missing_data(world, capsys):
    argv = run_args(world)
    argv[argv.index(world / "p")] = world / "nope"
    expect_error(world, argv, "no such project", capsys)


def test_message_out_under_a_file(world, capsys):
    expect_error(world, run_args(world, out="unrelated.txt/out"), "unrelated.txt", capsys)


def test_message_corrupt_chunk_names_run_and_chunk(world, capsys):
    z = next((world / "p" / "overlay" / "ExperimentRuns" / "TS_1").glob("VoxelSpacing*")) / "denoised.zarr"
    (z / "0" / "0" / "0" / "0").write_bytes(b"garbage")
    expect_error(world, run_args(world), "run 'TS_1', tomogram 'denoised': cannot decode chunk", capsys, skip=("out",))


@pytest.mark.parametrize("value", [float("nan"), 1e300])
def test_silent_bad_voxels_name_the_run(world, value, capsys):
    z = next((world / "p" / "overlay" / "ExperimentRuns" / "TS_0").glob("VoxelSpacing*")) / "denoised.zarr"
    shutil.rmtree(z / "0")
    data = np.ones((32, 64, 64), np.float64)
    data[3, 4, 5] = value
    zarr.open_array(
        zarr.NestedDirectoryStore(str(z / "0")), mode="w", shape=data.shape, dtype=data.dtype, chunks=data.shape
    )[...] = data
    expect_error(
        world,
        run_args(world, "--runs", "TS_0"),
        "run 'TS_0', tomogram 'denoised': NaN or infinite voxels",
        capsys,
        skip=("out",),
    )


# ---- permissions ----
def test_permissions_outputs_follow_umask(world, capsys):
    old = os.umask(0o022)
    try:
        ok(world, capsys)
    finally:
        os.umask(old)
    for f in ["submission.csv", "manifest.json", "ensemble.yaml", "picks/TS_0.csv"]:
        assert (world / "out" / f).stat().st_mode & 0o777 == 0o644, f


# ---- issue 41: names, ownership, escapes, stale resume, messages, modes ----
def _level0(world, run="TS_0"):
    return next((world / "p" / "overlay" / "ExperimentRuns" / run).glob("VoxelSpacing*")) / "denoised.zarr" / "0"


def test_names_duplicate_runs_refused(world, capsys):
    expect_error(world, run_args(world, "--runs", "TS_0", "TS_0"), "['TS_0'] more than once", capsys)
    assert not (world / "out").exists()


def test_names_distinct_runs_each_written_once(world, capsys):
    ok(world, capsys, "--runs", "TS_1", "TS_0")
    sub = pl.read_csv(world / "out" / "submission.csv")
    per_run = sum(len(pl.read_csv(world / "out" / "picks" / f"{r}.csv")) for r in ("TS_0", "TS_1"))
    assert len(sub) == per_run  # no pick twice


@pytest.mark.parametrize(
    "extra",
    [["--user", "someone"], ["--session", "1"], ["--segmentation", "picks"], ["--format", "star", "--user", "x"]],
)
def test_dataloss_copick_options_without_format_copick_refused(world, extra, capsys):
    "Nothing is ever written into the input project unless --format copick asks for it."
    expect_error(world, run_args(world, *extra), "--format copick", capsys)


def test_dataloss_format_copick_writes_the_project_when_asked(world, capsys):
    ok(world, capsys, "--format", "copick", "--user", "someone", "--runs", "TS_0")
    back = read_picks(open_project(world / "p"), ["TS_0"], user="someone", session="0")
    assert len(back) == len(pl.read_csv(world / "out" / "picks" / "TS_0.csv"))


def test_escape_run_folder_symlink_out_of_project_refused(world, capsys):
    runs = world / "p" / "overlay" / "ExperimentRuns"
    (world / "elsewhere").mkdir()
    shutil.move(runs / "TS_0", world / "elsewhere" / "TS_0")
    (runs / "TS_0").symlink_to(world / "elsewhere" / "TS_0")
    expect_error(world, run_args(world, "--format", "copick", "--user", "cryo"), "run 'TS_0' folder", capsys)
    ok(world, capsys, "--runs", "TS_0")  # reading through the link (csv output) is fine
    assert not list((world / "elsewhere" / "TS_0").glob("Picks/*cryo*"))


@pytest.mark.parametrize("name", ["picks", "manifest.json", "submission.csv"])
def test_escape_out_entry_symlink_refused(world, name, capsys):
    ok(world, capsys, "--runs", "TS_0")
    victim = world / "victim"
    victim.mkdir()
    src = world / "out" / name
    shutil.move(src, victim / name)
    src.symlink_to(victim / name)
    before = snapshot(victim)
    expect_error(world, run_args(world, "--overwrite"), f"--out's {name}", capsys, skip=("out",))
    assert snapshot(victim) == before


def test_stale_changed_middle_chunk_refused(world, capsys):
    "The resume fingerprint covers every chunk file (size and mtime), not only the first and the last chunk."
    z = _level0(world)
    data = zarr.open_array(zarr.NestedDirectoryStore(str(z)), mode="r")[...]
    shutil.rmtree(z)
    a = zarr.open_array(
        zarr.NestedDirectoryStore(str(z)), mode="w", shape=data.shape, dtype=data.dtype, chunks=(16, 32, 32)
    )
    a[...] = data
    ok(world, capsys)
    a[0:16, 0:32, 32:64] = np.random.default_rng(3).standard_normal((16, 32, 32)).astype(data.dtype)  # chunk (0, 0, 1)
    expect_error(world, run_args(world), "run TS_0: tomogram data changed", capsys)


def test_stale_untouched_chunks_resume(world, capsys):
    ok(world, capsys)
    first = (world / "out" / "picks" / "TS_0.csv").stat().st_mtime_ns
    ok(world, capsys)  # same data: every run is skipped
    assert (world / "out" / "picks" / "TS_0.csv").stat().st_mtime_ns == first


@pytest.mark.parametrize("dtype", ["<c8", "|O", "|V4", "<M8[s]"])
def test_message_zarray_dtype(world, dtype, capsys):
    meta = _level0(world) / ".zarray"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "dtype": dtype}))
    expect_error(world, run_args(world), "dtype", capsys)


@pytest.mark.parametrize("device", ["meta", "bogus", "cuda:99", "cpu:x"])
def test_message_device(world, device, capsys):
    expect_error(world, run_args(world, "--device", device), f"--device {device!r}", capsys)
    assert not (world / "out").exists()


@pytest.mark.parametrize("content", ["hello world\n", "101\n", "members: [a.pt]\n"])
def test_message_text_file_as_checkpoint(world, content, capsys):
    (world / "notes.txt").write_text(content)
    argv = ["run", "--project", world / "p", "--checkpoint", world / "notes.txt", "--out", world / "out", "--quiet"]
    code, _, err = cli(argv, capsys)
    assert_clean_error(code, err, "notes.txt")
    assert (
        err
        == f"cryo-infer: error: cannot read checkpoint {(world / 'notes.txt').resolve()}: truncated, corrupt or not a PyTorch file\n"
    )
    assert "101" not in err and not (world / "out").exists()


@pytest.mark.parametrize("content", ["hello world\n", "e", "101\n"])
def test_load_members_text_file(tmp_path, content):
    "load_members (the ensemble's loader) says what safe_load says: the file, in one line."
    (tmp_path / "notes.txt").write_text(content)
    with pytest.raises(ValueError) as e:
        load_members(ensemble_from_checkpoints([str(tmp_path / "notes.txt")], "none", "full"))
    assert (
        str(e.value)
        == f"cannot read checkpoint {(tmp_path / 'notes.txt').resolve()}: truncated, corrupt or not a PyTorch file"
    )


@pytest.mark.parametrize(
    "post,key",
    [
        ({"min_sizes": {"ribosome": -1}}, "post.min_sizes.ribosome must be a whole number of voxels >= 0"),
        ({"min_sizes": {"ribosome": float("inf")}}, "post.min_sizes.ribosome must be a whole number"),
        ({"half_resolution": ["unicorn"]}, "post.half_resolution: unknown class(es) ['unicorn']"),
        ({"half_resolution": "ribosome"}, "post.half_resolution must be a list of class names"),
        ({"peak_radius_fraction": -1}, "post.peak_radius_fraction must be a number in (0, 4]"),
        ({"connectivity": 5}, "post.connectivity must be 6, 18 or 26"),
        ({"method": "magic"}, "post.method must be"),
    ],
)
def test_silent_post_values_refused(world, post, key, capsys):
    write_ens(world / "ens.yaml", post=post)
    expect_error(world, run_args(world), key, capsys)


def test_silent_post_values_valid_neighbour(world, capsys):
    write_ens(world / "ens.yaml", post={"min_sizes": {"ribosome": 0}, "half_resolution": ["ribosome"]})
    ok(world, capsys, "--runs", "TS_0")


def test_dataloss_out_is_a_simulated_project_refused(world, capsys):
    "`.cryo-made` of cryo-data simulate does not let cryo-infer run write predictions into the project."
    expect_error(world, run_args(world, out="p"), "output", capsys)


def test_dataloss_out_made_by_another_tool_refused(world, capsys):
    from cryo_metric.guards import write_marker

    (world / "other").mkdir()
    write_marker(world / "other", "cryo-train fit", "training")
    (world / "other" / "best.pt").write_bytes(b"x")
    expect_error(world, run_args(world, out="other"), "cryo-train fit", capsys)


def test_dataloss_legacy_marker_resumes(world, capsys):
    ok(world, capsys, "--runs", "TS_0")
    (world / "out" / ".cryo-made").write_text("written by cryo-infer run\n")  # a 0.1 output folder
    ok(world, capsys, "--runs", "TS_0")


def test_dataloss_tune_out_inside_project_refused(world, capsys):
    argv = ["tune", "--project", world / "p", "--ensemble", world / "ens.yaml", "--runs", "TS_0"]
    expect_error(world, [*argv, "--out", world / "p" / "tuned.yaml", "--quiet"], "inside the project", capsys)


def test_message_enospc_names_the_output(world, capsys, monkeypatch):
    import errno

    import cryo_infer.run as run_mod

    def full(path, text, overwrite=False):
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(path).parent / f".{Path(path).name}.x1.tmp"))

    monkeypatch.setattr(run_mod, "atomic_write_text", full)
    code, _, err = cli(run_args(world), capsys)
    assert_clean_error(code, err, "No space left on device")
    assert "manifest.json" in err and ".tmp" not in err


def test_permissions_copick_outputs_follow_umask(world, capsys):
    old = os.umask(0o022)
    try:
        ok(world, capsys, "--format", "copick", "--user", "cryo", "--runs", "TS_0", "--segmentation", "picks")
    finally:
        os.umask(old)
    picks = list((world / "p" / "overlay" / "ExperimentRuns" / "TS_0" / "Picks").glob("*cryo*"))
    assert picks and all(p.stat().st_mode & 0o777 == 0o644 for p in picks)


# ---- issue 38: copick segmentations read back with copick's own API; a log line per run ----
@pytest.mark.parametrize("kind", ["probabilities", "picks"])
def test_copick_segmentations_read_back(world, kind, capsys):
    import copick

    ok(world, capsys, "--format", "copick", "--user", "cryo", "--runs", "TS_0", "--segmentation", kind)
    run = copick.from_file(str(world / "p" / "copick.json")).get_run("TS_0")
    segs = run.get_segmentations(user_id="cryo", session_id="0")
    shape = open_project(world / "p").tomogram("TS_0").shape
    assert segs and all(s.numpy().shape == shape for s in segs)
    if kind == "probabilities":
        names = sorted(s.name for s in segs)
        assert names == sorted(open_project(world / "p").particles.scored) and not any(s.is_multilabel for s in segs)
        assert all(s.numpy().dtype == np.uint8 for s in segs)
    else:
        (seg,) = segs
        assert seg.is_multilabel and seg.name == "predicted-particles"
        labels = {o.label for o in run.root.pickable_objects}
        assert set(np.unique(seg.numpy())) - {0} <= labels
        assert seg.numpy().any() == (len(pl.read_csv(world / "out" / "picks" / "TS_0.csv")) > 0)


def test_copick_segmentations_never_replace_someone_elses(world, capsys):
    import copick

    run = copick.from_file(str(world / "p" / "copick.json")).get_run("TS_0")
    run.new_segmentation(voxel_size=10.012, name="ribosome", session_id="0", user_id="cryo").from_numpy(
        np.ones((32, 64, 64), np.uint8)
    )
    expect_error(
        world,
        run_args(world, "--format", "copick", "--user", "cryo", "--segmentation", "probabilities"),
        "already exist",
        capsys,
    )


def test_log_lines_when_stdout_is_not_a_terminal(world, capsys):
    code, out, err = cli(
        ["run", "--project", world / "p", "--ensemble", world / "ens.yaml", "--out", world / "out"], capsys
    )
    assert code == 0, err
    lines = [l for l in out.splitlines() if l.startswith("[")]
    assert [l.split()[0] for l in lines] == ["[1/2]", "[2/2]"]
    assert all(" picks " in l and " s; elapsed " in l and "ETA" in l for l in lines)


# ---- issue 38: the memory budget and the speed presets on the command line ----
@pytest.mark.parametrize(
    "extra,msg",
    [
        (["--max-memory", "0.5"], "--max-memory 0.5 GB is too small"),
        (["--max-memory", "-1"], "--max-memory must be a positive number of GB"),
        (["--max-memory", "nan"], "--max-memory must be a positive number of GB"),
        (["--max-memory", "4", "--roi", "32", "64", "64"], "not both"),
    ],
)
def test_message_max_memory(world, extra, msg, capsys):
    expect_error(world, run_args(world, *extra), msg, capsys)
    assert not (world / "out").exists()


def test_max_memory_chooses_the_window(world, capsys):
    argv = [a for a in run_args(world, "--max-memory", "4", "--runs", "TS_0") if a != "--quiet"]
    code, out, err = cli(argv, capsys)
    assert code == 0, err
    assert "window: tiles 128x384x384, 1 view(s) per pass" in out  # a tiny tomogram: one tile, one view (one TTA view)
    assert yaml.safe_load((world / "out" / "ensemble.yaml").read_text())["window"]["roi_size"] == [128, 384, 384]


def test_cpu_default_plans_memory_without_a_window(world, capsys):
    d = yaml.safe_load((world / "ens.yaml").read_text())
    del d["window"]  # no window set: a CPU run plans for 3 GB
    (world / "ens.yaml").write_text(yaml.safe_dump(d))
    argv = [a for a in run_args(world, "--runs", "TS_0", "--device", "cpu") if a != "--quiet"]
    code, out, err = cli(argv, capsys)
    assert code == 0, err
    assert "of a 3 GB budget" in out


def test_speed_preset_runs(world, capsys):
    ok(world, capsys, "--speed", "fast", "--runs", "TS_0")
    assert (world / "out" / "picks" / "TS_0.csv").exists()


def test_message_missing_mrc_refused_before_out(world, capsys):
    argv = ["run", "--mrc", world / "nope.mrc", "--checkpoint", world / "m.pt", "--out", world / "out", "--quiet"]
    expect_error(world, argv, "nope.mrc", capsys)
    assert not (world / "out").exists()
