"""The grid matcher against the KD-tree matcher on points placed to break it: on cell edges, at exactly the match
distance and one ulp either side of it, with negative coordinates and several runs."""

import numpy as np
import pytest
from cryo_metric.score import _grid_hits, _hits


@pytest.mark.parametrize("dist", [30.0, 32.5, 45.0, 67.5, 75.0, 0.7])
@pytest.mark.parametrize("seed", range(6))
def test_grid_equals_tree_on_edges(dist, seed):
    rng = np.random.default_rng(seed)
    s = 2.0 * dist * (1 + 4e-6)
    n = 400
    ref = rng.integers(-40, 40, (n, 3)) * s + rng.choice([0.0, 1e-9, -1e-9, dist, -dist], (n, 3))
    u = rng.normal(size=(n, 3))
    u[: n // 4] = np.eye(3)[rng.integers(0, 3, n // 4)] * rng.choice([-1, 1], (n // 4, 1))  # along an axis
    cand = ref + dist * u / np.linalg.norm(u, axis=1, keepdims=True)
    cand[n // 2 :] = np.nextafter(cand[n // 2 :], cand[n // 2 :] + rng.choice([-1, 1], (n - n // 2, 3)))  # +- 1 ulp
    rg, cg = rng.integers(0, 3, n), rng.integers(0, 3, n)
    cg[: n // 2] = rg[: n // 2]
    grid = _grid_hits(list(ref.T), rg, list(cand.T), cg, dist, 3)
    assert grid is not None
    tree = _hits(ref, rg, cand, cg, dist)
    assert grid.tolist() == tree.tolist()
    assert 0 < tree.sum() < n  # both hits and misses were tested


def test_grid_declines_what_it_cannot_do_exactly():
    p = np.array([[0.0, 0.0, 0.0], [1e12, 0.0, 0.0]])
    assert _grid_hits(list(p.T), np.array([0, 0]), list(p.T), np.array([0, 0]), 30.0, 1) is None  # beyond 1e7 cells
    q = np.random.default_rng(0).uniform(0, 1, (200, 3))
    assert _grid_hits(list(q.T), np.zeros(200, int), list(q.T), np.zeros(200, int), 30.0, 1) is None  # 200 in one cell


@pytest.mark.parametrize("seed", range(4))
def test_hashed_rows_never_match_across_runs(seed):
    "Rows of cells hash into a table of about 2 x the candidates: many runs and a few candidates collide in it often."
    rng = np.random.default_rng(seed)
    n_runs, dist = 400, 30.0
    ref = rng.uniform(0, 3000, (n_runs, 3))
    rg = np.arange(n_runs)
    cand = ref + rng.normal(0, 5.0, ref.shape)  # every candidate within reach of a reference ...
    cg = (rg + 1 + rng.integers(0, n_runs - 1, n_runs)) % n_runs  # ... of another run
    keep = rng.random(n_runs) < 0.3
    cg[keep] = rg[keep]  # and about 30 % in the reference's own run
    grid = _grid_hits(list(ref.T), rg, list(cand.T), cg, dist, n_runs)
    assert grid.tolist() == _hits(ref, rg, cand, cg, dist).tolist()
    assert 0 < grid.sum() < n_runs


def test_hashed_collision_of_two_runs_is_not_a_match():
    "A candidate at the reference's own point, in a run whose row hashes to the reference's row, is no hit."
    dist = 30.0
    ref = np.array([[100.0, 100.0, 100.0]])
    for other in range(1, 64):  # one of these run codes lands in the reference's hashed row
        g = _grid_hits(list(ref.T), np.array([0]), list(ref.T), np.array([other]), dist, 64)
        assert g is not None and not g.any()
    assert _grid_hits(list(ref.T), np.array([0]), list(ref.T), np.array([0]), dist, 64).tolist() == [True]
