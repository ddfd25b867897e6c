"""Build the documentation site: the guides, the notebooks (stored outputs, not re-executed) and an API reference.

    python ci/docs.py [--out site]          (hatch run docs:build)

Stages the guides (docs/*.md and docs/figures/), every package's README, notebooks and API page, and the end-to-end
notebooks under build/docs_src/, writes the navigation, and runs `mkdocs build --strict` (a broken link, a missing
page or a docstring griffe cannot read fails the build). The API pages come from mkdocstrings' Python handler, which
reads packages/*/src statically with griffe: nothing is imported, so the docs environment needs no torch. The site
lands in site/ (git-ignored); open site/index.html.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["cryo-metric", "cryo-data", "cryo-models", "cryo-infer", "cryo-train"]
SRC = [ROOT / "packages" / pkg / "src" for pkg in PACKAGES]


def modules(pkg: str) -> list[str]:
    "The dotted names of a package's modules (generated from its notebooks), in file order; no private modules."
    src = ROOT / "packages" / pkg / "src"
    out = []
    for f in sorted(src.rglob("*.py")):
        rel = f.relative_to(src).with_suffix("")
        if any(part.startswith("_") for part in rel.parts):
            continue
        out.append(".".join(rel.parts))
    return out


def api_page(pkg: str) -> str:
    "One page per package: every public module's docstrings, signatures and type hints (mkdocstrings, read statically)."
    lines = [
        f"# {pkg}: API reference",
        "",
        f"Generated from the docstrings of `packages/{pkg}/src` (exported from the package's notebooks). Parameters are",
        "documented by the comment beside each one in the source shown under its signature; the notebooks show them at work.",
        "",
    ]
    for mod in modules(pkg):
        lines += [f"::: {mod}", ""]
    return "\n".join(lines)


def _title(nb: Path) -> str:
    import json

    cells = json.loads(nb.read_text())["cells"]
    for c in cells:
        if c["cell_type"] == "markdown":
            first = "".join(c["source"]).strip().splitlines()[0] if "".join(c["source"]).strip() else ""
            if first.startswith("# "):
                return first[2:].strip()
    return nb.stem


def stage(src: Path) -> list:
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    nav, index = (
        [{"Home": "index.md"}],
        [
            "# cryo",
            "",
            "An open toolkit for finding protein complexes in cryo-electron tomograms. These pages are the guides, the",
            "project's notebooks with their stored outputs (each package's modules are written and tested in them), and",
            "one API reference per package generated from the docstrings.",
            "",
        ],
    )
    guides = sorted((ROOT / "docs").glob("*.md"))
    if guides:
        (src / "guides").mkdir()
        if (ROOT / "docs" / "figures").is_dir():
            shutil.copytree(ROOT / "docs" / "figures", src / "guides" / "figures")
        index += ["## Guides", ""]
        items = []
        for g in guides:
            shutil.copy(g, src / "guides" / g.name)
            title = next((ln[2:].strip() for ln in g.read_text().splitlines() if ln.startswith("# ")), g.stem)
            items.append({title: f"guides/{g.name}"})
            index.append(f"- [{title}](guides/{g.name})")
        nav.append({"Guides": items})
        index.append("")
    stories = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if stories:
        (src / "notebooks").mkdir()
        index += ["## End-to-end stories", ""]
        items = []
        for nb in stories:
            shutil.copy(nb, src / "notebooks" / nb.name)
            items.append({_title(nb): f"notebooks/{nb.name}"})
            index.append(f"- [{_title(nb)}](notebooks/{nb.name})")
        nav.append({"Stories": items})
        index.append("")
    for pkg in PACKAGES:
        d = src / pkg
        d.mkdir()
        readme = (ROOT / "packages" / pkg / "README.md").read_text()
        (d / "index.md").write_text(readme)
        items = [{"Overview": f"{pkg}/index.md"}]
        index += [f"## [{pkg}]({pkg}/index.md)", ""]
        for nb in sorted((ROOT / "packages" / pkg / "nbs").glob("*.ipynb")):
            shutil.copy(nb, d / nb.name)
            items.append({_title(nb): f"{pkg}/{nb.name}"})
            index.append(f"- [{_title(nb)}]({pkg}/{nb.name})")
        (d / "api.md").write_text(api_page(pkg))
        items.append({"API reference": f"{pkg}/api.md"})
        index.append(f"- [API reference]({pkg}/api.md)")
        nav.append({pkg: items})
        index.append("")
    (src / "index.md").write_text("\n".join(index) + "\n")
    return nav


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "site"), help="output folder (default: site/)")
    args = ap.parse_args(argv)
    src = ROOT / "build" / "docs_src"
    nav = stage(src)
    cfg = {
        "site_name": "cryo",
        "docs_dir": str(src),
        "site_dir": str(Path(args.out).resolve()),
        "nav": nav,
        "theme": {"name": "mkdocs"},
        "use_directory_urls": False,
        "plugins": [
            {"mkdocs-jupyter": {"execute": False, "include_source": True, "ignore_h1_titles": False}},
            {
                "mkdocstrings": {
                    "default_handler": "python",
                    "handlers": {
                        "python": {
                            "paths": [str(p) for p in SRC],  # read statically: no torch needed
                            "options": {
                                "allow_inspection": False,
                                "show_root_heading": True,
                                "show_root_full_path": True,
                                "heading_level": 2,
                                "members_order": "source",
                                "filters": ["!^_"],  # public names (nbdev modules list their exports in __all__)
                                "show_source": True,  # the parameters are documented by comments in the signature
                                "show_signature_annotations": True,
                                "separate_signature": True,
                                "show_if_no_docstring": True,
                                "merge_init_into_class": True,
                                "docstring_style": "google",
                            },
                        }
                    },
                }
            },
        ],
        "validation": {
            "nav": {"omitted_files": "warn", "not_found": "warn"},
            "links": {"not_found": "warn", "anchors": "warn", "unrecognized_links": "warn"},
        },
    }
    (ROOT / "build" / "mkdocs.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "build" / "mkdocs.yml")])
    if r.returncode != 0:
        return r.returncode
    pages = sorted(Path(args.out).rglob("*.html"))
    broken = broken_links(Path(args.out))
    for b in broken:
        print("docs: broken link:", b)
    print(f"docs: {len(pages)} pages in {args.out}, {len(broken)} broken link(s)")
    return 1 if broken else 0


def broken_links(site: Path) -> list[str]:
    "Relative href/src targets in the built pages that do not exist (external links are not followed: no network)."
    import re
    from urllib.parse import unquote, urlparse

    out = []
    for page in site.rglob("*.html"):
        for m in re.finditer(r'(?:href|src)="([^"]+)"', page.read_text(errors="replace")):
            u = urlparse(m.group(1))
            if u.scheme or u.netloc or not u.path or m.group(1).startswith(("#", "data:", "mailto:", "javascript:")):
                continue
            base = (
                site if u.path.startswith("/") else page.parent
            )  # root-relative links (404 page) resolve from the site
            target = (base / unquote(u.path).lstrip("/")).resolve()
            if not target.exists():
                out.append(f"{page.relative_to(site)} -> {m.group(1)}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
