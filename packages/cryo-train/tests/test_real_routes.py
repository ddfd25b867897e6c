"""The real routes without a network: a project in the Data Portal's words (names, user, sessions, tomogram types) and a
3-class project with other names are each simulated, trained (a few steps, tiny model), predicted and scored end to end."""

import json
import subprocess
import sys

import polars as pl
import pytest
from cryo_data.io import open_project
from cryo_data.picks import read_picks
from cryo_data.portal import PORTAL_DENOISED, add_cryo_block, portalise_project
from cryo_data.simproject import simulate_project
from cryo_infer.ensemble import EnsembleConfig, MemberSpec, save_ensemble
from cryo_infer.evaluate import evaluate
from cryo_infer.window import WindowConfig
from cryo_metric import score
from cryo_metric.particles import CZII_PARTICLES, Particle, ParticleSet
from cryo_models import load_checkpoint
from cryo_train.config import TrainConfig, apply_overrides
from cryo_train.fit import fit

TINY = [
    "data.roi_size=[32,32,32]",
    "data.tomo_types=[denoised]",
    "data.samples_per_volume=2",
    "data.augment=false",
    "val.post=full",
    "val.every_n_epochs=1",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
]
WINDOW = WindowConfig(roi_size=(32, 64, 64), overlap_vox=(8, 16, 16))


def _infer_cli(config, ckpt, out, *extra):
    ens = out.parent / "ens.yaml"
    save_ensemble(EnsembleConfig(members=(MemberSpec(str(ckpt)),), tta=("identity",), window=WINDOW, post="full"), ens)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cryo_infer.cli",
            "run",
            "--project",
            str(config),
            "--ensemble",
            str(ens),
            "--out",
            str(out),
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return pl.read_csv(out / "submission.csv")


def test_portal_named_project_trains_infers_and_scores(tmp_path):
    sim = simulate_project(tmp_path / "sim", runs=2, shape=(32, 64, 64), seed=5, crowding=10.0, progress=False)
    cfg = portalise_project(sim, tmp_path / "portal")
    prj = open_project(cfg, truth_user="data-portal", truth_session="*")  # as --truth-user/--truth-session give it
    assert prj.particle_names == CZII_PARTICLES.names and prj.tomo_types("TS_5") == [PORTAL_DENOISED]
    truth = read_picks(prj)
    assert len(truth) == len(read_picks(open_project(sim))) > 0
    model_cfg = apply_overrides(TrainConfig(), TINY + ["model.overrides={channels: [4, 8, 8, 8]}"])
    r = fit(model_cfg, prj, ["TS_6"], tmp_path / "fit", progress=False)
    assert (tmp_path / "fit" / "best.pt").exists() and r.best_fbeta is not None
    # inference through the CLI on the portal config, with the truth's names carried by the config's cryo block
    (tmp_path / "portal" / "copick.json").write_text(json.dumps(add_cryo_block(json.loads(cfg.read_text()))))
    sub = _infer_cli(cfg, tmp_path / "fit" / "best.pt", tmp_path / "out")
    assert set(sub["particle_type"]) <= set(CZII_PARTICLES.scored)
    res = evaluate(
        open_project(cfg), [load_checkpoint(tmp_path / "fit" / "best.pt")], ["TS_6"], WINDOW, ("identity",), "full"
    )
    assert len(res.truth) > 0 and set(res.truth["user"]) == {"data-portal"}
    assert 0.0 <= res.score <= 1.0 and set(res.per_class["particle_type"]) == set(CZII_PARTICLES.names)


def test_three_class_project_with_other_names(tmp_path):
    three = ParticleSet(
        (
            Particle("alpha", 60.0, 1.0, pdb_id="4V1W"),
            Particle("bravo", 90.0, 2.0, pdb_id="6X1Q"),
            Particle("charlie", 150.0, 1.0, pdb_id="6EK0"),
        )
    )
    three.to_yaml(tmp_path / "three.yaml")
    cfg = simulate_project(
        tmp_path / "p", runs=2, shape=(32, 64, 64), seed=7, crowding=10.0, progress=False, particles=three
    )
    prj = open_project(cfg)
    assert prj.particles.names == three.names and prj.particles.radii() == three.radii()
    assert set(read_picks(prj)["particle_type"]) <= set(three.names) and len(read_picks(prj)) > 0
    model_cfg = apply_overrides(
        TrainConfig(), TINY + ["model.overrides={channels: [4, 8, 8, 8], out_channels: 4}", "data.ratios=[1,1,1,1]"]
    )
    fit(model_cfg, prj, ["TS_8"], tmp_path / "fit", progress=False)
    m = load_checkpoint(tmp_path / "fit" / "best.pt")
    assert tuple(m.cryo_classes) == three.layout()
    sub = _infer_cli(cfg, tmp_path / "fit" / "best.pt", tmp_path / "out")
    assert set(sub["particle_type"]) <= set(three.names)
    res = evaluate(prj, [m], ["TS_8"], WINDOW, ("identity",), "full")
    assert res.per_class["particle_type"].to_list() == three.names and 0.0 <= res.score <= 1.0
    # the metric CLI with the set's YAML
    sol = tmp_path / "sol.csv"
    res.truth.select("run", "particle_type", "x", "y", "z").write_csv(sol)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cryo_metric.cli",
            "score",
            "--project",
            str(sol),
            str(sol),
            "--particles",
            str(tmp_path / "three.yaml"),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert sorted(out["per_class"]) == three.names
    assert out["score"] == pytest.approx(score(res.truth, res.truth, particles=three).score)
