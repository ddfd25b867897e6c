"""The 2nd-place recipe's earlier preset names ('seed', ...) map to today's in one place, with a DeprecationWarning."""

import warnings

import pytest
from cryo_metric.particles import LEGACY_PRESET_NAMES, RECIPE, LegacyNameWarning, preset_name, show_legacy_warnings


def test_the_mapping():
    assert LEGACY_PRESET_NAMES == {
        "seed": "2nd-place",
        "seed_parity": "2nd-place-parity",
        "seed7": "2nd-place-7",
        "seed10": "2nd-place-10",
    }
    assert RECIPE == "2nd-place"


@pytest.mark.parametrize("old,new", list(LEGACY_PRESET_NAMES.items()))
def test_each_legacy_name_maps_and_warns_naming_the_new_value(old, new):
    with pytest.warns(DeprecationWarning, match=f"'{old}' is deprecated, use '{new}'") as rec:
        assert preset_name(old, "post-processing preset") == new
    assert len(rec) == 1 and issubclass(rec[0].category, LegacyNameWarning)
    assert "post-processing preset" in str(rec[0].message)


@pytest.mark.parametrize(
    "name", ["2nd-place", "2nd-place-10", "official", "full", "submit7", "Seed", "seed8", 42, None]
)
def test_other_values_pass_silently(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert preset_name(name) == name


def test_the_command_lines_make_the_warning_visible(monkeypatch):
    monkeypatch.setattr("sys.warnoptions", [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Python's default for DeprecationWarnings outside __main__
        show_legacy_warnings()
        with warnings.catch_warnings(record=True) as rec:
            preset_name("seed")
            warnings.warn("other", DeprecationWarning)  # third-party deprecations stay hidden
    assert [str(w.message).split(" is ")[0] for w in rec] == ["preset 'seed'"]
