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
