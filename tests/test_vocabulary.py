"""Repository-level checks of the one-vocabulary rule (run by `bash ci/check.sh` in the all-packages environment).

Particle names, radii, weights and class layouts are written once, in `cryo_metric.particles`; every other module
imports them. `experiment` (the Kaggle CSV's name for a run) appears only at the Kaggle CSV boundary.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from cryo_metric.particles import BACKGROUND, CZII_PARTICLES

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ROOT / "packages" / "cryo-metric" / "src" / "cryo_metric" / "particles.py"
NAMES = set(CZII_PARTICLES.names) | {BACKGROUND}


def _modules() -> list[Path]:
    files = sorted(p for p in (ROOT / "packages").glob("*/src/**/*.py") if p.name != "_modidx.py" and p != VOCAB)
    assert len(files) > 30, f"expected the packages' generated modules under {ROOT / 'packages'}, found {len(files)}"
    return files


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_no_particle_name_outside_the_vocabulary():
    found = [
        f"{p.relative_to(ROOT)}:{line}: {value!r}"
        for p in _modules()
        for line, value in _string_constants(p)
        if value in NAMES
    ]
    assert not found, "particle names / class layouts written outside cryo_metric.particles:\n" + "\n".join(found)


def test_the_check_would_catch_a_copy(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('RADII = {"ribosome": 150.0}\n"docstring-like statement is fine: ribosome"\n')
    assert [v for _, v in _string_constants(bad) if v in NAMES] == ["ribosome"]


def test_vocabulary_defines_each_number_once():
    text = VOCAB.read_text()
    for p in CZII_PARTICLES:
        assert len(re.findall(rf'Particle\("{re.escape(p.name)}"', text)) == 1, p.name


RENAME = re.compile(r"""rename\(\s*\{\s*["'](run|experiment)["']\s*:\s*["'](run|experiment)["']""")
BOUNDARY = {ROOT / "packages/cryo-metric/src/cryo_metric/score.py"}  # picks_table: Kaggle CSV in


@pytest.mark.parametrize(
    "pattern",
    [
        "packages/*/src/**/*.py",
        "packages/*/nbs/*.ipynb",
        "packages/*/tests/**/*.py",
        "benchmarks/*.py",
        "research/*.py",
        "notebooks/*.ipynb",
        "ci/*.py",
    ],
)
def test_no_run_experiment_rename_outside_the_kaggle_boundary(pattern):
    hits = [
        f"{p.relative_to(ROOT)}"
        for p in ROOT.glob(pattern)
        if p not in BOUNDARY and "nbs/01_score.ipynb" not in str(p) and RENAME.search(p.read_text())
    ]
    assert not hits, f"rename between run and experiment outside the Kaggle CSV boundary: {hits}"


GUARDS = ROOT / "packages" / "cryo-metric" / "src" / "cryo_metric" / "guards.py"


def test_recipe_name_is_one_constant():
    "The 2nd-place recipe's name is written once, `cryo_metric.guards.RECIPE`; code imports it (docstrings may say it)."
    from cryo_metric.guards import RECIPE

    found = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in _modules() + [VOCAB]
        if p != GUARDS
        for line, value in _string_constants(p)
        if value == RECIPE
    ]
    assert not found, f"the literal {RECIPE!r} outside cryo_metric.guards (import RECIPE):\n" + "\n".join(found)


def _schema_dicts(path: Path) -> list[int]:
    "Lines of dict literals mapping the picks columns to polars dtypes (a restated picks schema)."
    tree = ast.parse(path.read_text(), filename=str(path))
    hits = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Dict):
            continue
        keys = {k.value for k in n.keys if isinstance(k, ast.Constant)}
        dtypes = all(isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) for v in n.values)
        if {"run", "particle_type", "x", "y", "z"} <= keys and dtypes:
            hits.append(n.lineno)
    return hits


def test_one_picks_schema():
    "The picks schema is `cryo_metric.particles.PICK_SCHEMA`; no other module restates it."
    found = [f"{p.relative_to(ROOT)}:{line}" for p in _modules() for line in _schema_dicts(p)]
    assert not found, "picks schema restated outside cryo_metric.particles (import PICK_SCHEMA):\n" + "\n".join(found)
    assert _schema_dicts(VOCAB), "the check no longer finds the schema where it is defined"
