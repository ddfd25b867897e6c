"""Robustness suite, cryo-train: bad options, configs, checkpoints and folders give one readable `cryo-train: error:`
line, exit 2, no traceback, and leave every input and unrelated file as it was (no training starts).
Categories: security, names, data loss, silent, message."""

import json
import os
from pathlib import Path

import polars as pl
import pytest
import torch
import yaml
from cryo_data.simproject import simulate_project
from cryo_metric.testing import CliHarness, copy_project, snapshot
from cryo_train.cli import main
from cryo_train.config import TrainConfig, apply_overrides
from cryo_train.fit import fit

# ---- shared helpers: cryo_metric.testing (the same in every package's robustness suite) ----
H = CliHarness(main, "cryo-train")
cli, assert_clean_error, expect_error = H.cli, H.assert_clean_error, H.expect_error


# ---- fixtures ----
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    d = tmp_path_factory.mktemp("pristine")
    simulate_project(d / "p", runs=2, shape=(32, 64, 64), seed=0, crowding=4.0, progress=False)
    return d / "p"


@pytest.fixture()
def world(pristine, tmp_path):
    copy_project(pristine, tmp_path / "p")
    (tmp_path / "unrelated.txt").write_text("keep me")
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({"data": {"roi_size": [32, 64, 64], "tomo_types": ["denoised"]}}))
    return tmp_path


def fit_args(world, *extra, out="out"):
    return [
        "fit",
        "--recipe",
        world / "cfg.yaml",
        "--project",
        world / "p",
        "--valid-run",
        "TS_1",
        "--out",
        world / out,
        "--quiet",
        *extra,
    ]


# ---- silent: options that trained nothing, forever, or on nothing ----
@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_silent_max_epochs(world, epochs, capsys):
    expect_error(
        world,
        fit_args(world, f"--max-epochs={epochs}"),
        "trainer.max_epochs (--max-epochs) must be an integer >= 1",
        capsys,
    )


def test_silent_every_run_for_validation(world, capsys):
    argv = fit_args(world)
    argv[argv.index("TS_1")] = "TS_0"
    argv.insert(argv.index("TS_0") + 1, "TS_1")
    expect_error(world, argv, "every run of the project is used for validation", capsys)


def test_silent_config_points_at_nothing(world, capsys):
    cfg = json.loads((world / "p" / "copick.json").read_text())
    cfg["overlay_root"] = "local://" + str(world / "nowhere")
    (world / "p" / "copick.json").write_text(json.dumps(cfg))
    expect_error(world, fit_args(world), "overlay_root", capsys)  # a root that does not exist is named


@pytest.mark.parametrize(
    "override,msg",
    [
        ("optim.lr=-1", "optim.lr must be a finite number > 0"),
        ("optim.lr=.nan", "optim.lr must be a finite number > 0"),
        ("data.batch_size=0", "data.batch_size must be an integer >= 1"),
        ("val.top_k=0", "val.top_k"),
        ("val.every_n_epochs=0", "val.every_n_epochs"),
        ("data.ratios=[0,0,0,0,0,0,0]", "data.ratios"),
        ("data.roi_size=[4,64,64]", "data.roi_size"),
        ("data.tomo_types=[]", "data.tomo_types"),
    ],
)
def test_silent_config_values(world, override, msg, capsys):
    expect_error(world, fit_args(world, "--set", override), msg, capsys)


def test_silent_max_epochs_api(world):
    from cryo_data.io import open_project

    with pytest.raises(ValueError, match="max_epochs"):
        fit(TrainConfig(), open_project(world / "p"), ["TS_1"], world / "out", max_epochs=0)
    assert not (world / "out").exists()


# ---- tracebacks become one-line messages ----
@pytest.mark.parametrize(
    "override,msg",
    [
        ("optim.lr=abc", "optim.lr: expected float, got 'abc'"),
        ("data.roi_size=big", "data.roi_size: expected a list"),
        ("nope=1", "unknown key 'nope'"),
        ("optim.lr=[1", "not valid YAML"),
        ("optim.lr", "is not of the form key=value"),
        ("optim.nope.x=1", "is not a config section"),
        ("trainer.devices=[1", "not valid YAML"),
    ],
)
def test_message_set_overrides(world, override, msg, capsys):
    expect_error(world, fit_args(world, "--set", override), msg, capsys)


@pytest.mark.parametrize(
    "text,msg",
    [
        ("[1, 2]\n", "expected a mapping"),
        ("data: [\n", "cannot read config"),
        ("window: {roi_size: big}\n", "unknown config key"),
        ("data: {roi_size: big}\n", "data.roi_size"),
    ],
)
def test_message_config_file(world, text, msg, capsys):
    (world / "cfg.yaml").write_text(text)
    expect_error(world, fit_args(world), msg, capsys)


def test_message_missing_config(world, capsys):
    argv = fit_args(world)
    argv[argv.index(world / "cfg.yaml")] = "nope"
    expect_error(world, argv, "no config 'nope'", capsys)


@pytest.mark.parametrize(
    "run,msg", [("TS_9", "not found"), ("../../x", "invalid run name"), ("a/b", "invalid run name")]
)
def test_message_valid_run(world, run, msg, capsys):
    argv = fit_args(world)
    argv[argv.index("TS_1")] = run
    expect_error(world, argv, msg, capsys)


def test_message_cv_bad_fold(world, capsys):
    expect_error(
        world,
        ["cv", "--recipe", world / "cfg.yaml", "--project", world / "p", "--out", world / "cv", "--folds", "../x"],
        "invalid run name",
        capsys,
    )


def test_message_missing_data(world, capsys):
    argv = fit_args(world)
    argv[argv.index(world / "p")] = world / "nope"
    expect_error(world, argv, "no such project", capsys)


# ---- data loss: never train into a folder holding other results ----
def test_dataloss_out_not_empty(world, capsys):
    (world / "out").mkdir()
    (world / "out" / "notes.txt").write_text("mine")
    expect_error(world, fit_args(world), "is not empty", capsys)


def test_dataloss_out_is_a_file(world, capsys):
    expect_error(world, fit_args(world, out="unrelated.txt"), "is a file", capsys)


# ---- resume: missing, truncated, foreign or malicious last.ckpt ----
def _last(world) -> Path:
    p = world / "out" / "checkpoints" / "last.ckpt"
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def test_message_resume_without_checkpoint(world, capsys):
    expect_error(world, fit_args(world, "--resume"), "cannot resume", capsys)


@pytest.mark.parametrize("content", [b"", b"\x80\x02garbage", "cut"])
def test_message_resume_truncated_checkpoint(world, content, capsys):
    p = _last(world)
    if content == "cut":
        torch.save({"epoch": 1, "state_dict": {"w": torch.ones(100)}, "loops": {}}, p)
        p.write_bytes(p.read_bytes()[:300])
    else:
        p.write_bytes(content)
    expect_error(world, fit_args(world, "--resume"), "cannot read checkpoint", capsys)


def test_message_resume_not_a_lightning_checkpoint(world, capsys):
    torch.save({"format": "cryo-models", "state_dict": {}}, _last(world))
    expect_error(world, fit_args(world, "--resume"), "is not a Lightning training checkpoint", capsys)


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_security_resume_malicious_checkpoint(world, capsys):
    torch.save({"epoch": 0, "state_dict": {}, "loops": Evil(world / "PWNED")}, _last(world))
    expect_error(world, fit_args(world, "--resume"), "refusing to load checkpoint", capsys)
    assert not (world / "PWNED").exists()


# ---- tune-thresholds ----
@pytest.fixture()
def cv(world):
    "A cross-validation folder with out-of-fold picks (the ground truth itself, with scores)."
    from cryo_data.io import open_project
    from cryo_data.picks import read_picks

    pk = (
        read_picks(open_project(world / "p"), ["TS_1"])
        .select("run", "particle_type", "x", "y", "z")
        .with_columns(score=pl.lit(0.9))
    )
    (world / "cv" / "fold_TS_1").mkdir(parents=True)
    pk.write_csv(world / "cv" / "fold_TS_1" / "oof_picks.csv")
    return world / "cv"


def tune_args(world, ens):
    return ["tune-thresholds", "--cv", world / "cv", "--project", world / "p", "--ensemble", ens]


@pytest.mark.parametrize(
    "text,msg",
    [
        ("[1, 2]\n", "is not an ensemble"),
        ("just a string\n", "is not an ensemble"),
        ("members: [\n", "not valid YAML"),
        ("members: [m.pt]\npost: magic\n", "unknown post preset"),
    ],
)
def test_dataloss_tune_thresholds_into_bad_yaml(world, cv, text, msg, capsys):
    (world / "ens.yaml").write_text(text)
    expect_error(world, tune_args(world, world / "ens.yaml"), msg, capsys)


def test_message_tune_thresholds_missing_yaml(world, cv, capsys):
    expect_error(world, tune_args(world, world / "nope.yaml"), "no such ensemble YAML", capsys)


def test_message_tune_thresholds_without_oof(world, capsys):
    (world / "ens.yaml").write_text("members: [m.pt]\n")
    (world / "cv").mkdir()
    expect_error(world, tune_args(world, world / "ens.yaml"), "no fold_*/oof_picks.csv", capsys)


def test_tune_thresholds_valid_yaml_updated(world, cv, capsys):
    "Control: a valid ensemble gets its thresholds, other settings kept, nothing else touched."
    (world / "ens.yaml").write_text("members: [m.pt]\ntta: [identity]\n")
    code, out, err = cli(tune_args(world, world / "ens.yaml"), capsys)
    assert code == 0, err
    d = yaml.safe_load((world / "ens.yaml").read_text())
    assert d["tta"] == ["identity"] and set(d["post"]["thresholds"]) >= {"ribosome"}
    assert (world / "unrelated.txt").read_text() == "keep me"


@pytest.mark.parametrize("where", ["p/ens.yaml", "p/overlay/ens.yaml"])
def test_dataloss_tune_thresholds_never_writes_into_the_project(world, cv, where, capsys):
    "An --ensemble inside the input project is refused before anything is read or written there."
    (world / where).write_text("members: [m.pt]\n")
    before = (world / where).read_text()
    expect_error(world, tune_args(world, world / where), "is inside the project", capsys)
    assert (world / where).read_text() == before


# ---- resume: continues from last.ckpt (loaded with weights_only=True) and appends to metrics.csv ----
def test_stale_resume_appends_metrics(world, capsys):
    from cryo_data.io import open_project

    tiny = [
        "data.roi_size=[32,64,64]",
        "data.tomo_types=[denoised]",
        "data.samples_per_volume=2",
        "data.augment=false",
        "model.overrides={channels: [8, 16, 16, 16]}",
        "val.post=full",
        "trainer.limit_train_batches=1",
    ]
    cfg = apply_overrides(TrainConfig(), tiny)
    fit(cfg, open_project(world / "p"), ["TS_1"], world / "out", max_epochs=1, progress=False)
    metrics = world / "out" / "csv" / "version_0" / "metrics.csv"
    first = pl.read_csv(metrics, infer_schema_length=None)
    r = fit(cfg, open_project(world / "p"), ["TS_1"], world / "out", max_epochs=2, resume=True, progress=False)
    both = pl.read_csv(metrics, infer_schema_length=None)
    assert both.head(len(first)).equals(first)  # epoch 0's rows kept, not rewritten
    assert both.filter(pl.col("train_loss_epoch").is_not_null())["epoch"].to_list() == [0, 1]
    assert r.metrics["epoch"].to_list() == [0, 1] and (world / "out" / "best.pt").exists()


# ---- data loss: --overwrite replaces only a folder that cryo-train made, checked before anything is deleted ----
def cv_args(world, *extra, out="cv"):
    return ["cv", "--recipe", world / "cfg.yaml", "--project", world / "p", "--out", world / out, "--quiet", *extra]


@pytest.mark.parametrize("args", [fit_args, cv_args])
def test_dataloss_overwrite_refuses_a_folder_no_cryo_tool_made(world, args, capsys):
    (world / "mine").mkdir()
    (world / "mine" / "thesis.tex").write_text("years of work")
    expect_error(world, args(world, "--overwrite", out="mine"), "has no cryo marker", capsys)


@pytest.mark.parametrize("tool", ["cryo-infer run", "cryo-data simulate", "cryo-train cv"])
def test_dataloss_overwrite_refuses_another_tools_folder(world, tool, capsys):
    from cryo_metric.guards import write_marker

    (world / "theirs").mkdir()
    (world / "theirs" / "submission.csv").write_text("run,particle_type,x,y,z\n")
    write_marker(world / "theirs", tool, "predictions" if "infer" in tool else "training")
    expect_error(world, fit_args(world, "--overwrite", out="theirs"), f"was made by {tool}", capsys)


@pytest.mark.parametrize("args", [fit_args, cv_args])
@pytest.mark.parametrize("where", ["p", "p/overlay", "p/overlay/new", "."])
def test_dataloss_overwrite_never_into_the_project(world, args, where, capsys):
    "`fit --project P --out P --overwrite` deleted the training project (0.1.0): the output may not be, contain or lie in an input."
    expect_error(world, args(world, "--overwrite", out=where), "input", capsys)


def test_dataloss_traversing_valid_run_refused_before_deleting(world, monkeypatch, capsys):
    "The default --out is built from the run name: `TS_1/../../victim` must be refused before `./victim` is touched."
    monkeypatch.chdir(world)
    (world / "victim").mkdir()
    (world / "victim" / "keep.txt").write_text("keep me")
    argv = [a for a in fit_args(world, "--overwrite") if a not in ("--out", world / "out")]
    argv[argv.index("TS_1")] = "TS_1/../../victim"
    expect_error(world, argv, "invalid run name 'TS_1/../../victim'", capsys)


@pytest.mark.parametrize(
    "flag,run,msg",
    [
        ("--train-runs", "../x", "invalid run name"),
        ("--train-runs", "TS_9", "['TS_9'] not found"),
        ("--train-runs", "TS_1", "both training and validation"),
    ],
)
def test_message_train_runs(world, flag, run, msg, capsys):
    expect_error(world, fit_args(world, flag, run), msg, capsys)


def test_message_cv_folds_outside_train_runs(world, capsys):
    expect_error(world, cv_args(world, "--train-runs", "TS_0", "TS_1", "--folds", "TS_7"), "not among", capsys)


def test_fit_overwrite_replaces_its_own_folder(world, capsys):
    "A folder an earlier `cryo-train fit` made is refused without --overwrite and replaced with it; stdout has epoch lines."
    tiny = ["--set", "model.overrides={channels: [4, 8, 8, 8]}", "--set", "trainer.limit_train_batches=1"]
    tiny += ["--set", "val.post=full", "--max-epochs", "1"]
    code, out, err = cli(fit_args(world, *tiny), capsys)
    assert code == 0, err
    assert "epoch 1/1 | steps 1 | loss " in out and "| val F-beta " in out and "| ETA " in out  # stdout is no terminal
    (world / "out" / "stale.txt").write_text("from the first run")
    expect_error(world, fit_args(world, *tiny), "pass --overwrite", capsys)
    code, out, err = cli(fit_args(world, *tiny, "--overwrite"), capsys)
    assert code == 0, err
    assert not (world / "out" / "stale.txt").exists() and (world / "out" / "best.pt").exists()
    assert (world / "unrelated.txt").read_text() == "keep me"


# ---- --init-weights: refused by name, never executed, before anything is written ----
def test_message_init_weights_missing(world, capsys):
    expect_error(world, fit_args(world, "--init-weights", world / "nope.ckpt"), "nope.ckpt", capsys)


def test_message_init_weights_not_a_checkpoint(world, capsys):
    (world / "notes.ckpt").write_text("101\n")
    expect_error(world, fit_args(world, "--init-weights", world / "notes.ckpt"), "notes.ckpt", capsys)


def test_message_init_weights_other_architecture(world, capsys):
    from cryo_models import create_model, save_checkpoint

    save_checkpoint(create_model("segresnet"), world / "seg.pt")
    expect_error(world, fit_args(world, "--init-weights", world / "seg.pt"), "holds a 'segresnet' model", capsys)


def test_security_init_weights_malicious_checkpoint(world, capsys):
    torch.save({"state_dict": {}, "loops": Evil(world / "PWNED")}, world / "evil.ckpt")
    expect_error(world, fit_args(world, "--init-weights", world / "evil.ckpt"), "refusing to load checkpoint", capsys)
    assert not (world / "PWNED").exists()


# ---- tune-thresholds: broken out-of-fold picks and fold checkpoints are named, nothing is written ----
@pytest.mark.parametrize(
    "content,msg",
    [
        (b"run,particle_type,x,y,z,score\nTS_1,ribosome,nan,10,10,0.9\n", "row(s) with a missing, NaN"),
        (b"run,particle_type,x,y,z,score\nTS_1,ribosome,,10,10,0.9\n", "row(s) with a missing, NaN"),
        (b"run,particle_type,x,y,z,score\nTS_1,ribosome,abc,10,10,0.9\n", "not an out-of-fold picks CSV"),
        (b"\x00\x9f\x92\x96\xff garbage \x89PNG\r\n", "not an out-of-fold picks CSV"),
        (b"", "not an out-of-fold picks CSV"),
        (b"run,x\nTS_1,1\n", "columns ['particle_type', 'y', 'z', 'score'] missing"),
    ],
)
def test_message_tune_thresholds_bad_oof(world, cv, content, msg, capsys):
    (cv / "fold_TS_1" / "oof_picks.csv").write_bytes(content)
    (world / "ens.yaml").write_text("members: [m.pt]\n")
    before = snapshot(world)
    code, _, err = cli(tune_args(world, world / "ens.yaml"), capsys)
    assert_clean_error(code, err, "fold_TS_1/oof_picks.csv: ")  # the file is named
    assert msg in err and snapshot(world) == before


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"\x80\x02garbage"])
def test_silent_tune_thresholds_never_names_a_broken_checkpoint(world, cv, content, capsys):
    (cv / "fold_TS_1" / "best.pt").write_bytes(content)
    expect_error(world, tune_args(world, world / "new.yaml"), "fold_TS_1/best.pt cannot be loaded", capsys)
    assert not (world / "new.yaml").exists()


# ---- config values that used to fail after training started, or with a traceback ----
@pytest.mark.parametrize(
    "override,msg",
    [
        ("val.post=bogus", "config val.post must be"),
        ("val.tta=[identity,bogus]", "config val.tta must be"),
        ("data.roi_size=[9,9,9]", "data.roi_size"),
        ("data.label_mode=bogus", "data.label_mode"),
        ("trainer.devices=0", "trainer.devices"),
        ("trainer.max_time=abc", "trainer.max_time"),
    ],
)
def test_message_config_values_named(world, override, msg, capsys):
    expect_error(world, fit_args(world, "--set", override), msg, capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_message_gpu_accelerator_without_gpu(world, capsys):
    expect_error(world, fit_args(world, "--set", "trainer.accelerator=gpu"), "trainer.accelerator", capsys)


# ---- the shared vocabulary: old spellings work one more release, with a warning ----
def test_version(capsys):
    from cryo_train import __version__

    code, out, _ = cli(["--version"], capsys)
    assert code == 0 and out.strip() == f"cryo-train {__version__}"


def _warned(err: str, old: str, new: str) -> bool:
    return f"cryo-train: warning: {old} is deprecated and will be removed in the next release; use {new}" in err


def test_deprecated_config_is_the_recipe(world, capsys):
    argv = fit_args(world)
    argv[argv.index("--recipe")] = "--config"
    argv[argv.index(world / "cfg.yaml")] = "nope"  # the error proves --config reached the recipe
    code, _, err = cli(argv, capsys)
    assert code == 2 and _warned(err, "--config", "--recipe") and "no config 'nope'" in err


@pytest.mark.parametrize("sub", ["fit", "cv", "tune-thresholds"])
def test_deprecated_data_is_the_project(world, sub, capsys):
    argv = {"fit": fit_args, "cv": cv_args}.get(sub, lambda w: tune_args(w, w / "ens.yaml"))(world)
    argv[argv.index("--project")] = "--data"
    argv[argv.index(world / "p")] = world / "nope"  # the error proves --data reached the project
    code, _, err = cli(argv, capsys)
    assert code == 2 and _warned(err, "--data", "--project") and "no such project" in err, err
