"""Execute notebooks in place so that they are committed with their outputs (figures included), then clean them.

    python ci/run_notebooks.py [NOTEBOOK_OR_FOLDER ...]     (default: every package's nbs/ and notebooks/)

Cells run in-process with execnb (what nbdev-test uses; no Jupyter kernel needed), in the notebook's own folder.
Cells flagged `#| eval: false` are skipped; a failing cell stops that notebook with a non-zero exit. Figures are
stored as PNG. Run `nbdev-clean` afterwards (this script does) so that metadata and execution counts stay stable.
Flagged tests (`#| slow`, `#| data`, `#| cuda`) are skipped as nbdev-test skips them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_FLAGS = ("#| slow", "#| cuda", "#| data", "#| eval: false", "#|eval: false")


def _skip(cell) -> bool:
    src = "".join(cell.source) if isinstance(cell.source, list) else cell.source
    return cell.cell_type == "code" and any(line.strip() in SKIP_FLAGS for line in src.splitlines()[:3])


def run(nb: Path) -> float:
    from execnb.shell import CaptureShell

    t0, cwd = time.time(), os.getcwd()
    os.chdir(nb.parent)
    try:
        CaptureShell(mpl_format="png").execute(nb, nb, exc_stop=True, preproc=_skip)
    finally:
        os.chdir(cwd)
    return time.time() - t0


def main(argv: list[str]) -> int:
    targets = [Path(a) for a in argv] or sorted(ROOT.glob("packages/*/nbs")) + [ROOT / "notebooks"]
    targets = [t.resolve() for t in targets]
    nbs = [n for t in targets for n in ([t] if t.suffix == ".ipynb" else sorted(t.glob("*.ipynb")))]
    failed = []
    for nb in nbs:
        try:
            print(f"{nb.relative_to(ROOT)}: {run(nb.resolve()):.0f} s", flush=True)
        except Exception as e:  # noqa: BLE001 - report every notebook, then fail
            print(f"{nb}: FAILED: {type(e).__name__}: {e}", flush=True)
            failed.append(nb)
        subprocess.run([str(Path(sys.executable).with_name("nbdev-clean")), "--fname", str(nb)], check=False)
    if failed:
        print("failed:", *failed, sep="\n  ")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
