import pytest
from cryo_train.config import TrainConfig, apply_overrides, load_config, save_config


def test_round_trip_and_overrides(tmp_path):
    cfg = apply_overrides(TrainConfig(), ["trainer.max_epochs=3", "data.tomo_types=[denoised]"])
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == cfg
    assert cfg.data.tomo_types == ("denoised",)


def test_unknown_key_is_named(tmp_path):
    (tmp_path / "c.yaml").write_text("data:\n  roi_sise: [1, 2, 3]\n")
    with pytest.raises(KeyError, match="data.roi_sise"):
        load_config(tmp_path / "c.yaml")


def test_shipped_configs_are_base_plus_deltas():
    """Every shipped config extends base.yaml; only the model name, the loss (Luo's recipe) and epochs differ."""
    from cryo_train.cli import CONFIG_DIR, resolve_config

    names = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if p.stem != "base")
    assert len(names) == 8
    base = load_config(CONFIG_DIR / "base.yaml")
    for n in names:
        assert "extends: base.yaml" in (CONFIG_DIR / f"{n}.yaml").read_text()
        c = resolve_config(n)
        assert c.model.name == n
        assert c.data == base.data and c.val == base.val
        assert c.optim.loss == ("luo" if n in ("unet_v3", "unet2e3d") else "2nd-place")
        assert c.trainer.max_epochs == (250 if n == "segresnet" else 200)


def test_configs_written_with_the_earlier_preset_names(tmp_path):
    """`radii: seed`, `loss: seed`, `post: seed` (before the 2nd-place recipe got its name) read as today's names."""
    (tmp_path / "old.yaml").write_text("data:\n  radii: seed\noptim:\n  loss: seed\nval:\n  post: seed_parity\n")
    with pytest.warns(DeprecationWarning) as rec:
        cfg = load_config(tmp_path / "old.yaml")
    assert (cfg.data.radii, cfg.optim.loss, cfg.val.post) == ("2nd-place", "2nd-place", "2nd-place-parity")
    messages = sorted(str(w.message).split(" is ")[0] for w in rec)
    assert messages == ["data.radii 'seed'", "optim.loss 'seed'", "val.post 'seed_parity'"]
    assert all("use '2nd-place" in str(w.message) for w in rec)
    with pytest.warns(DeprecationWarning, match="optim.loss 'seed' is deprecated, use '2nd-place'"):
        assert apply_overrides(TrainConfig(), ["optim.loss=seed"]).optim.loss == "2nd-place"
    save_config(cfg, tmp_path / "new.yaml")  # written back with today's names
    assert "seed" not in (tmp_path / "new.yaml").read_text().replace("seed: 42", "").replace("seed_parity", "")


def test_loss_by_its_earlier_name():
    from cryo_train.loss import SeedLoss, make_loss

    with pytest.warns(DeprecationWarning, match="loss 'seed' is deprecated, use '2nd-place'"):
        assert isinstance(make_loss("seed", 7), SeedLoss)
    assert isinstance(make_loss("2nd-place", 7), SeedLoss)
    with pytest.raises(ValueError, match="'2nd-place' or 'luo'"):
        make_loss("seeds", 7)


def test_thresholds_into_an_ensemble_written_with_an_earlier_post_name(tmp_path):
    from cryo_infer.ensemble import load_ensemble
    from cryo_infer.postprocess import POST_PRESETS
    from cryo_train.fit import write_thresholds

    (tmp_path / "ens.yaml").write_text("members: [m.pt]\npost: seed_parity\n")
    with pytest.warns(DeprecationWarning, match="'seed_parity' is deprecated, use '2nd-place-parity'"):
        write_thresholds(tmp_path / "ens.yaml", {"ribosome": 0.3})
    post = load_ensemble(tmp_path / "ens.yaml").post
    assert post.thresholds["ribosome"] == 0.3
    assert (post.half_res_offset_fix, post.half_resolution) == (False, POST_PRESETS["2nd-place-parity"].half_resolution)
