"""Earlier names of the 2nd-place presets ('seed', 'seed_parity', 'seed7', 'seed10') still work everywhere a user could
have written them (arguments, ensemble YAML, command line), each with a DeprecationWarning that names the new value."""

import numpy as np
import pytest
import yaml
from cryo_infer.cli import build_parser, main
from cryo_infer.ensemble import EnsembleConfig, ensemble_from_checkpoints, load_ensemble, seed_ensemble
from cryo_infer.postprocess import POST_PRESETS, probs_to_picks
from cryo_infer.tta import RECIPE_TTA, get_tta
from cryo_infer.window import RECIPE_WINDOW, WindowConfig, blend_weights
from cryo_models import RECIPE_ENSEMBLES, seed_table


def warns(old, new):
    return pytest.warns(DeprecationWarning, match=f"'{old}' is deprecated, use '{new}'")


def test_todays_names():
    assert set(POST_PRESETS) == {"2nd-place", "2nd-place-parity", "full", "peaks"}
    assert list(RECIPE_ENSEMBLES) == ["2nd-place-7", "submit7", "2nd-place-10"]
    assert RECIPE_WINDOW.blend == "2nd-place" and len(RECIPE_TTA) == 7


def test_tta_preset():
    with warns("seed", "2nd-place"):
        old = get_tta("seed")
    assert [t.name for t in old] == [t.name for t in get_tta("2nd-place")] == list(RECIPE_TTA)


def test_window_blend():
    with warns("seed", "2nd-place"):
        w = WindowConfig(roi_size=(16, 32, 32), blend="seed")
    assert w.blend == "2nd-place"
    assert np.array_equal(blend_weights(w.roi_size, w), blend_weights(w.roi_size, WindowConfig(roi_size=(16, 32, 32))))


@pytest.mark.parametrize("old,new", [("seed", "2nd-place"), ("seed_parity", "2nd-place-parity")])
def test_post_presets(old, new):
    rng = np.random.default_rng(0)
    probs = np.zeros((5, 16, 32, 32), np.float32)
    probs[:, 4:10, 8:20, 8:20] = rng.uniform(0.5, 1.0, (5, 6, 12, 12))
    with warns(old, new):
        picks = probs_to_picks(probs, 10.0, old)
    assert len(picks) > 0 and picks.equals(probs_to_picks(probs, 10.0, new))
    with warns(old, new):
        assert EnsembleConfig(post=old).post == new


def test_ensemble_yaml_written_with_the_earlier_names(tmp_path):
    (tmp_path / "old.yaml").write_text(
        "members: [a.pt]\ntta: seed\nwindow: {roi_size: [32, 64, 64], blend: seed}\npost: seed_parity\n"
    )
    with pytest.warns(DeprecationWarning) as rec:
        e = load_ensemble(tmp_path / "old.yaml")
    assert (e.tta, e.window.blend, e.post) == (RECIPE_TTA, "2nd-place", "2nd-place-parity")
    messages = " | ".join(str(w.message) for w in rec)
    for old, new in [("seed", "2nd-place"), ("seed_parity", "2nd-place-parity")]:
        assert f"'{old}' is deprecated, use '{new}'" in messages, messages
    (tmp_path / "a.pt").write_bytes(b"")
    with pytest.warns(DeprecationWarning, match="'2nd-place'"):
        e2 = ensemble_from_checkpoints([tmp_path / "a.pt"], tta="seed", post="seed")
    assert (e2.tta, e2.post) == (RECIPE_TTA, "2nd-place")


@pytest.mark.parametrize("old,new", [("seed7", "2nd-place-7"), ("seed10", "2nd-place-10")])
def test_ensemble_presets(old, new, tmp_path):
    with warns(old, new):
        e = seed_ensemble(old, tmp_path, check_files=False)
    assert e == seed_ensemble(new, tmp_path, check_files=False)
    assert len(e.members) == len(RECIPE_ENSEMBLES[new])
    with warns("seed_parity", "2nd-place-parity"):
        parity = seed_ensemble(new, tmp_path, post="seed_parity", check_files=False)
    assert (parity.post, parity.amp, parity.window.input_dtype) == ("2nd-place-parity", "half", "float16")


def test_cli_preset_accepts_the_earlier_names(tmp_path, capsys):
    for name in seed_table()["checkpoint"].to_list():
        (tmp_path / name).write_bytes(b"")
    assert main(["preset", "2nd-place-10", "--checkpoint-dir", str(tmp_path), "--out", str(tmp_path / "new.yaml")]) == 0
    with warns("seed10", "2nd-place-10"):
        assert main(["preset", "seed10", "--checkpoint-dir", str(tmp_path), "--out", str(tmp_path / "old.yaml")]) == 0
    assert yaml.safe_load((tmp_path / "old.yaml").read_text()) == yaml.safe_load((tmp_path / "new.yaml").read_text())
    with pytest.raises(SystemExit):
        main(["preset", "seed8", "--checkpoint-dir", str(tmp_path), "--out", str(tmp_path / "x.yaml")])
    assert "2nd-place-7" in capsys.readouterr().err  # argparse lists today's names


def test_cli_help_shows_todays_names():
    p = build_parser()
    sub = next(a for a in p._actions if a.dest == "command").choices
    assert "2nd-place-10" in sub["preset"].format_help() and "2nd-place" in sub["run"].format_help()
