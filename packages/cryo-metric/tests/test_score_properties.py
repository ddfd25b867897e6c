"""Property tests: the fast scorer against a brute-force O(N*M) implementation of the definition."""

import numpy as np
import polars as pl
from cryo_metric import CZII_PARTICLES, score, tune_thresholds
from cryo_metric.score import fbeta_from_counts
from hypothesis import given, settings
from hypothesis import strategies as st

TYPES = CZII_PARTICLES.names


def sq_dist(a: np.ndarray, b: np.ndarray) -> float:
    """Squared distance summed in scipy's order: (dx^2 + dy^2) + dz^2."""
    dx, dy, dz = (float(u) - float(v) for u, v in zip(b, a))
    return (dx * dx + dy * dy) + dz * dz


def brute_force(sol: pl.DataFrame, sub: pl.DataFrame, beta=4.0, mult=0.5) -> float:
    """The definition, literally: loop over experiments and types, compare every pair."""
    exps = sol["experiment"].unique().to_list()
    sub = sub.filter(pl.col("experiment").is_in(exps))
    total = 0.0
    for p in CZII_PARTICLES:
        if p.name not in sol["particle_type"].to_list():
            continue
        tp = fp = fn = 0
        d = p.radius_A * mult
        for e in exps:
            r = (
                sol.filter((pl.col("experiment") == e) & (pl.col("particle_type") == p.name))
                .select("x", "y", "z")
                .to_numpy()
            )
            c = (
                sub.filter((pl.col("experiment") == e) & (pl.col("particle_type") == p.name))
                .select("x", "y", "z")
                .to_numpy()
            )
            if len(r) == 0:
                fp += len(c)
                continue
            if len(c) == 0:
                fn += len(r)
                continue
            hit = 0
            for a in r:
                if any(sq_dist(a, b) <= d * d for b in c):  # squared, as the Kaggle scorer's KD-tree compares
                    hit += 1
            tp += hit
            fp += len(c) - hit
            fn += len(r) - hit
        total += p.weight * fbeta_from_counts(tp, fp, fn, beta)[2]
    return total / CZII_PARTICLES.total_weight


@st.composite
def point_sets(draw):
    n_exp = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_ref, n_cand = draw(st.integers(0, 25)), draw(st.integers(0, 40))
    box = draw(st.sampled_from([200.0, 600.0, 2000.0]))

    def table(n):
        return pl.DataFrame(
            {
                "experiment": [
                    f"TS_{i}" for i in rng.integers(0, n_exp + 1, n)
                ],  # one experiment unknown to the solution
                "particle_type": [TYPES[i] for i in rng.integers(0, len(TYPES), n)],
                "x": rng.uniform(0, box, n),
                "y": rng.uniform(0, box, n),
                "z": rng.uniform(0, box / 4, n),
            },
            schema={
                "experiment": pl.String,
                "particle_type": pl.String,
                "x": pl.Float64,
                "y": pl.Float64,
                "z": pl.Float64,
            },
        )

    sol = table(n_ref).filter(pl.col("experiment") != f"TS_{n_exp}")
    sub = table(n_cand)
    if len(sol) and draw(st.booleans()):  # candidates jittered around references: many near misses and hits
        j = sol.sample(n=min(len(sol), 10), seed=seed, with_replacement=True)
        j = j.with_columns(pl.col("x") + rng.normal(0, 30, len(j)), pl.col("y") + rng.normal(0, 30, len(j)))
        sub = pl.concat([sub, j])
    return sol, sub


@settings(max_examples=150, deadline=None)
@given(point_sets())
def test_score_matches_brute_force(data):
    sol, sub = data
    assert abs(score(sol, sub).score - brute_force(sol, sub)) < 1e-12


@settings(max_examples=60, deadline=None)
@given(point_sets(), st.integers(0, 2**31 - 1))
def test_tuned_score_equals_rescoring(data, seed):
    sol, sub = data
    rng = np.random.default_rng(seed)
    sub = sub.with_columns(score=pl.Series(rng.uniform(0, 1, len(sub))))
    tr = tune_thresholds(sol, sub)
    assert abs(tr.score - score(sol, tr.apply(sub)).score) < 1e-12
    # no single lower or higher threshold for any class beats the tuned one
    for t in tr.thresholds:
        for thr in rng.uniform(0, 1, 5):
            alt = dict(tr.thresholds, **{t: float(thr)})
            kept = sub.filter(
                pl.col("score") >= pl.col("particle_type").replace_strict(alt, default=np.inf, return_dtype=pl.Float64)
            )
            assert score(sol, kept).score <= tr.score + 1e-12


def test_pandas_and_csv_inputs_agree(tmp_path):
    pd = __import__("pytest").importorskip("pandas")
    sol = pl.DataFrame(
        {
            "experiment": ["a", "a"],
            "particle_type": ["ribosome", "apo-ferritin"],
            "x": [0.0, 1000.0],
            "y": [0.0, 0.0],
            "z": [0.0, 0.0],
        }
    )
    sub = sol.with_columns(pl.col("x") + 20.0)
    sol.write_csv(tmp_path / "sol.csv")
    sub.write_csv(tmp_path / "sub.csv")
    a = score(sol, sub).score
    b = score(tmp_path / "sol.csv", tmp_path / "sub.csv").score
    c = score(pd.DataFrame(sol.to_dict(as_series=False)), pd.DataFrame(sub.to_dict(as_series=False))).score
    assert a == b == c == 2 / 7  # ribosome hit (20 <= 75), apo-ferritin hit (20 <= 30)


def kaggle_structured(sol: pl.DataFrame, sub: pl.DataFrame, beta=4.0, mult=0.5) -> float:
    """The competition scorer's structure: per experiment and type, a KD-tree ball query (scipy compares squared distances)."""
    from scipy.spatial import KDTree

    exps = sol["experiment"].unique().to_list()
    total = 0.0
    for p in CZII_PARTICLES:
        tp = fp = fn = 0
        for e in exps:
            if p.name not in sol["particle_type"].to_list():
                continue
            r = (
                sol.filter((pl.col("experiment") == e) & (pl.col("particle_type") == p.name))
                .select("x", "y", "z")
                .to_numpy()
            )
            c = (
                sub.filter((pl.col("experiment") == e) & (pl.col("particle_type") == p.name))
                .select("x", "y", "z")
                .to_numpy()
            )
            if len(r) == 0 or len(c) == 0:
                fp, fn = fp + len(c), fn + len(r)
                continue
            matched = set().union(*KDTree(c).query_ball_tree(KDTree(r), r=p.radius_A * mult))
            tp, fp, fn = tp + len(matched), fp + len(c) - len(matched), fn + len(r) - len(matched)
        total += p.weight * fbeta_from_counts(tp, fp, fn, beta)[2]
    return total / CZII_PARTICLES.total_weight


def test_distance_that_rounds_to_the_radius_is_a_miss_as_for_kaggle():
    """sqrt(4225.000000000001) rounds to 65.0, the thyroglobulin match distance; the KD-tree compares squares: a miss."""
    sol = pl.DataFrame(
        {
            "experiment": ["TS_5_4"],
            "particle_type": ["thyroglobulin"],
            "x": [1440.977],
            "y": [2240.298],
            "z": [3012.128],
        }
    )
    sub = pl.DataFrame(
        {
            "experiment": ["TS_5_4"],
            "particle_type": ["thyroglobulin"],
            "x": [1470.782324720711],
            "y": [2268.8026113038945],
            "z": [2961.8872819248486],
        }
    )
    assert kaggle_structured(sol, sub) == 0.0
    for matching in ("kaggle", "hungarian"):
        assert score(sol, sub, matching=matching).score == 0.0
    assert brute_force(sol, sub) == 0.0
    inside = sub.with_columns(pl.col("z") + 1e-9)  # a hair closer: a hit for both
    assert kaggle_structured(sol, inside) == score(sol, inside).score == 2 / 7


@settings(max_examples=60, deadline=None)
@given(point_sets())
def test_score_matches_kaggle_structured(data):
    sol, sub = data
    assert abs(score(sol, sub).score - kaggle_structured(sol, sub)) < 1e-12
