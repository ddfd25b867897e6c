"""Every exported name has a short example in its notebook (issue 39): each name in a generated module's `__all__`
appears in a visible code cell of the notebook it is exported from (not an `#| export` or `#| hide` cell)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.name for p in (ROOT / "packages").glob("cryo-*") if (p / "nbs").is_dir())


def _cells(nb: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]


def names_without_example(package: Path) -> list[str]:
    "`notebook: name` for each exported name that no visible code cell of its notebook uses."
    missing = []
    for nb in sorted((package / "nbs").glob("*.ipynb")):
        cells = _cells(nb)
        m = re.search(r"^#\|\s*default_exp\s+(\S+)", "\n".join(cells), re.M)
        if not m:
            continue
        module = package / "src" / package.name.replace("-", "_") / (m.group(1).replace(".", "/") + ".py")
        assert module.is_file(), f"{nb.name} exports {m.group(1)}, but {module} does not exist"
        exported = []
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                exported = ast.literal_eval(node.value)
        shown = "\n".join(c for c in cells if not re.match(r"\s*#\|\s*(export|hide)\b", c))
        missing += [f"{nb.name}: {n}" for n in exported if not re.search(rf"\b{re.escape(n)}\b", shown)]
    return missing


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_has_an_example(package):
    missing = names_without_example(ROOT / "packages" / package)
    assert not missing, f"{len(missing)} exported name(s) of {package} without an example in their notebook:\n" + (
        "\n".join(missing)
    )


def test_the_check_sees_a_missing_example(tmp_path):
    pkg = tmp_path / "cryo-x"
    (pkg / "nbs").mkdir(parents=True)
    (pkg / "src" / "cryo_x").mkdir(parents=True)
    (pkg / "src" / "cryo_x" / "m.py").write_text("__all__ = ['shown', 'hidden']\n")
    cells = ["#| default_exp m", "#| export\ndef shown(): ...\ndef hidden(): ...", "shown()", "#| hide\nhidden()"]
    nb = {"cells": [{"cell_type": "code", "source": [c]} for c in cells]}
    (pkg / "nbs" / "00_m.ipynb").write_text(json.dumps(nb))
    assert names_without_example(pkg) == ["00_m.ipynb: hidden"]
