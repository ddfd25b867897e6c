"""Fine-tuning through the command line: a 7-class checkpoint in the 2nd place's Lightning format into a project with
two particles of its own (3 classes), with --train-runs and --freeze-encoder; and cv drawing its folds from
--train-runs only."""

import pytest
import torch
from cryo_data.simproject import simulate_project
from cryo_metric.particles import Particle, ParticleSet
from cryo_metric.testing import CliHarness
from cryo_models import create_model, load_checkpoint
from cryo_train.cli import main

H = CliHarness(main, "cryo-train")
WIDTHS = [4, 8, 8, 8]
TINY = [
    "--set", "data.roi_size=[32,64,64]",
    "--set", "data.tomo_types=[denoised]",
    "--set", f"model.overrides={{channels: {WIDTHS}}}",
    "--set", "data.samples_per_volume=2",
    "--set", "trainer.limit_train_batches=1",
    "--set", "val.overlap_vox=[8,16,16]",
    "--set", "val.post=full",
    "--max-epochs", "1",
]  # fmt: skip
TWO = ParticleSet((Particle("mini-cage", 60.0, 1.0, pdb_id="4V1W"), Particle("big-ring", 130.0, 2.0, pdb_id="6EK0")))


def second_place_checkpoint(path, seed: int = 0) -> dict:
    "A unet_v1 checkpoint as the 2nd place wrote them: Lightning layout, `model.`/`loss_fn.` tensors, 7 classes."
    torch.manual_seed(seed)
    m = create_model("unet_v1", channels=WIDTHS)
    sd = {f"model.{k}": v for k, v in m.state_dict().items()}
    sd["loss_fn.ce.weight"] = torch.ones(7)
    torch.save({"epoch": 9, "global_step": 90, "pytorch-lightning_version": "2.5.0", "state_dict": sd}, path)
    return sd


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    d = tmp_path_factory.mktemp("lab")
    cfg = simulate_project(d / "p", runs=3, shape=(32, 64, 64), seed=0, crowding=12.0, particles=TWO, progress=False)
    return cfg, d


def test_fit_init_weights_7_to_3_classes_with_frozen_encoder(lab, tmp_path, capsys):
    cfg, _ = lab
    sd = second_place_checkpoint(tmp_path / "published.ckpt")
    argv = ["fit", "--recipe", "unet_v1", "--project", cfg, "--valid-run", "TS_2", "--train-runs", "TS_0"]
    argv += ["--init-weights", tmp_path / "published.ckpt", "--freeze-encoder", "--out", tmp_path / "ft", *TINY]
    code, out, err = H.cli(argv, capsys)
    assert code == 0, err
    assert "the project has 3 classes ['background', 'mini-cage', 'big-ring']" in out
    init = next(ln for ln in out.splitlines() if ln.startswith("init from"))
    three = create_model("unet_v1", channels=WIDTHS, out_channels=3).state_dict()
    out_layer = [k for k, v in three.items() if v.shape != sd[f"model.{k}"].shape]  # the layers with the classes
    assert out_layer and f"re-initialised {len(out_layer)} (" in init and all(k in init for k in out_layer), init
    assert "lightning format" in init and "(unet_v1," in init
    assert any(ln.startswith("encoder frozen: ") for ln in out.splitlines())
    assert "epoch 1/1 | steps 1 | loss " in out  # stdout is not a terminal: one line per epoch
    m = load_checkpoint(tmp_path / "ft" / "best.pt")
    assert tuple(m.cryo_classes) == ("background", "mini-cage", "big-ring")
    assert m.cryo_info.extra["train_runs"] == ["TS_0"] and m.cryo_info.extra["valid_runs"] == ["TS_2"]
    got = m.state_dict()
    first = next(k for k in got if k.startswith("model.0.") and k.endswith("weight"))  # the first encoder block
    assert torch.equal(got[first], sd[f"model.{first}"])  # kept, and frozen: unchanged by training
    assert all(got[k].shape == three[k].shape for k in out_layer)


def test_cv_draws_folds_from_train_runs_only(lab, tmp_path, capsys):
    cfg, _ = lab
    argv = ["cv", "--recipe", "unet_v1", "--project", cfg, "--train-runs", "TS_0", "TS_1", "--folds", "TS_1"]
    code, out, err = H.cli(argv + ["--out", tmp_path / "cv", *TINY], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "cv").glob("fold_*")) == ["fold_TS_1"]
    info = load_checkpoint(tmp_path / "cv" / "fold_TS_1" / "best.pt").cryo_info
    assert info.extra["train_runs"] == ["TS_0"]  # TS_2 is outside --train-runs: never trained on
