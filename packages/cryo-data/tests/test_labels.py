"""Label painting on real ground-truth picks (skips without ../shared) and on synthetic picks."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cryo_data.labels import fold_beta_amylase, paint_spheres
from cryo_metric.particles import RECIPE

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "czii_train_picks.csv"
VOXEL = 10.012444196428572


def test_paint_matches_bruteforce_on_random_picks():
    rng = np.random.default_rng(0)
    names = ["apo-ferritin", "beta-amylase", "beta-galactosidase", "ribosome", "thyroglobulin", "virus-like-particle"]
    n = 30
    pk = pl.DataFrame(
        {
            "particle_type": [names[i] for i in rng.integers(0, 6, n)],
            "x": rng.uniform(0, 640, n),
            "y": rng.uniform(0, 640, n),
            "z": rng.uniform(0, 320, n),
        }
    )
    shape = (32, 64, 64)
    lab = paint_spheres(pk, shape, 10.0)
    radii = {
        "apo-ferritin": 32,
        "beta-amylase": 26,
        "beta-galactosidase": 36,
        "ribosome": 60,
        "thyroglobulin": 48,
        "virus-like-particle": 60,
    }
    zz, yy, xx = np.meshgrid(*[np.arange(s) * 10.0 for s in shape], indexing="ij")
    ref = np.zeros(shape, np.uint8)
    for r in pk.iter_rows(named=True):
        inside = (zz - r["z"]) ** 2 + (yy - r["y"]) ** 2 + (xx - r["x"]) ** 2 <= radii[r["particle_type"]] ** 2
        ref = np.maximum(ref, inside * (names.index(r["particle_type"]) + 1)).astype(np.uint8)
    assert np.array_equal(lab, ref)
    assert np.array_equal(paint_spheres(pk, shape, 10.0, n_classes=6), fold_beta_amylase(ref))


@pytest.mark.skipif(
    not SHARED.exists(), reason="../shared/data/czii_train_picks.csv is absent (a user's clone has no ../shared)"
)
def test_real_picks_paint():  # speed is recorded by benchmarks/data_speed.py, not asserted here
    picks = pl.read_csv(SHARED)
    for run in picks["experiment"].unique().sort():
        pk = picks.filter(pl.col("experiment") == run)
        lab = paint_spheres(pk, (184, 630, 630), VOXEL)
        assert set(np.unique(lab).tolist()) <= set(range(7))
        assert (lab > 0).mean() > 0.0003  # seed radii x 0.4 paint about 0.08 % of the volume


def test_legacy_radius_preset_name_still_paints_and_warns():
    from cryo_data.labels import RADIUS_PRESETS, radius_preset

    assert set(RADIUS_PRESETS) == {RECIPE, "official"}
    with pytest.warns(DeprecationWarning, match="radius preset 'seed' is deprecated, use '2nd-place'"):
        assert radius_preset("seed") == radius_preset(RECIPE) != radius_preset("official")
    pk = pl.DataFrame({"particle_type": ["apo-ferritin"], "x": [320.0], "y": [320.0], "z": [160.0]})
    with pytest.warns(DeprecationWarning, match="'2nd-place'"):
        old = paint_spheres(pk, (32, 64, 64), 10.0, "seed")
    assert np.array_equal(old, paint_spheres(pk, (32, 64, 64), 10.0, RECIPE))
    assert (old > 0).sum() > (paint_spheres(pk, (32, 64, 64), 10.0, "official") > 0).sum()  # 80 x 0.4 > 60 x 0.5
