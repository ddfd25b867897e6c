"""Each package carries its licence and URLs, and declares the third-party modules its code imports (no more, no less)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
PKGS = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
DIST_TO_MODULE = {"pyyaml": "yaml", "connected-components-3d": "cc3d"}
STDLIB = set(sys.stdlib_module_names)
INDIRECT = {"tensorboardx": "loaded by Lightning's TensorBoardLogger (cryo_train.fit), never imported by name"}


def meta(pkg: str) -> dict:
    return tomllib.loads((ROOT / "packages" / pkg / "pyproject.toml").read_text())["project"]


def requirement_name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower()


def imported_modules(pkg: str) -> set[str]:
    "Top-level modules that the package's generated modules import (all of them: top-level or inside functions)."
    src = ROOT / "packages" / pkg / "src" / pkg.replace("-", "_")
    mods = set()
    for f in src.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                mods |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods.add(node.module.split(".")[0])
    return mods - STDLIB - {"__future__", pkg.replace("-", "_")}


@pytest.mark.parametrize("pkg", PKGS)
def test_licence_and_urls(pkg):
    m = meta(pkg)
    assert (ROOT / "packages" / pkg / "LICENSE").is_file() and m["license-files"] == ["LICENSE"]
    assert m.get("urls") and all(u.startswith("https://") for u in m["urls"].values()), m.get("urls")


@pytest.mark.parametrize("pkg", PKGS)
def test_every_imported_module_is_declared(pkg):
    m = meta(pkg)
    declared = {requirement_name(r) for r in m["dependencies"]}
    declared |= {requirement_name(r) for extra in m.get("optional-dependencies", {}).values() for r in extra}
    declared_mods = {DIST_TO_MODULE.get(d, d.replace("-", "_")) for d in declared}
    missing = sorted(imported_modules(pkg) - declared_mods)
    assert not missing, f"{pkg} imports {missing} without declaring them in pyproject.toml"


@pytest.mark.parametrize("pkg", PKGS)
def test_every_declared_dependency_is_imported(pkg):
    "Only what the code imports (runtime dependencies; extras are optional paths and checked above)."
    declared = {requirement_name(r) for r in meta(pkg)["dependencies"]}
    mods = imported_modules(pkg)
    unused = sorted(d for d in declared - set(INDIRECT) if DIST_TO_MODULE.get(d, d.replace("-", "_")) not in mods)
    assert not unused, f"{pkg} declares {unused} but its code never imports them"
