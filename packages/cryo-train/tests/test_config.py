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
        assert c.optim.loss == ("luo" if n in ("unet_v3", "unet2e3d") else "seed")
        assert c.trainer.max_epochs == (250 if n == "segresnet" else 200)
