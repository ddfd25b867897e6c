"""Repository-level check of the one CLI vocabulary (issue 39): every command line of every package, walked subcommand
by subcommand, against `cryo_metric.cliargs.CONCEPTS`.

- the top-level parser has `--version`, printing `PROG VERSION` with the package's version;
- every option string is the canonical flag of a concept, an old spelling declared in CONCEPTS (hidden from the help,
  beside its canonical flag, with the concept's dest), or one of the command-specific options of ALLOWED below;
- a canonical flag always has its concept's dest (the one exception: an old spelling that CONCEPTS declares for
  another concept, e.g. `simulate --runs N`, the count that became `--n-runs`);
- `--runs` (run names) never has type=int.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io

import pytest
from cryo_metric.cliargs import CONCEPTS

CLIS = {
    "cryo-metric": ("cryo_metric.cli", "cryo_metric"),
    "cryo-data": ("cryo_data.cli", "cryo_data"),
    "cryo-infer": ("cryo_infer.cli", "cryo_infer"),
    "cryo-train": ("cryo_train.cli", "cryo_train"),
    "cryo-train demo": ("cryo_train.demo", "cryo_train"),
}
"command -> (module with its parser, package whose __version__ it prints)"

ALLOWED = {  # options that belong to one command (or one package's commands), not to a shared concept
    # cryo-metric score
    "--json": "print the score as JSON",
    "--beta": "the F-beta's beta",
    "--distance-multiplier": "the metric's match distance, a multiple of the radius",
    "--matching": "kaggle or hungarian matching",
    # cryo-data simulate / show / portal
    "--shape": "simulated tomogram shape",
    "--templates": "density maps for the simulator",
    "--layout": "a CSV of particle positions to simulate",
    "--crowding": "simulator crowding",
    "--family": "simulated data family",
    "--kaggle": "write the raw Kaggle layout",
    "--picks": "picks to draw over a slice",
    "--datasets": "data-portal dataset ids",
    "--overlay": "copick overlay root of a portal config",
    # cryo-infer run / tune
    "--mrc": "plain MRC tomograms instead of a project",
    "--format": "output format of the picks",
    "--tta": "test-time augmentation preset",
    "--post": "post-processing preset",
    "--segmentation": "write probability maps as copick segmentations",
    "--roi": "sliding-window tile size",
    "--max-memory": "CPU memory budget that picks the tile",
    "--speed": "speed preset of inference",
    "--normalization": "input normalisation",
    "--membranes": "membrane handling",
    "--compile": "torch.compile",
    "--grid": "threshold grid of tune",
    # cryo-train fit / cv / tune-thresholds and the demo
    "--train-runs": "runs to train on (names)",
    "--valid-run": "the validation run",
    "--init-weights": "checkpoint to fine-tune from",
    "--freeze-encoder": "freeze the encoder while fine-tuning",
    "--max-epochs": "epochs",
    "--resume": "resume an interrupted fit",
    "--set": "override one recipe value",
    "--folds": "cross-validation folds",
    "--cv": "a cv output folder",
    "--steps": "training steps of the demo",
    "--test-family": "the demo's out-of-family test run",
    "--fixed-thresholds": "the demo keeps the recipe's thresholds",
}
ALWAYS = {"-h", "--help", "--version"}


class _Captured(Exception):
    pass


def parser_of(module: str) -> argparse.ArgumentParser:
    "The module's `build_parser()`, or the parser its `main` builds (caught at parse time, before it runs anything)."
    m = importlib.import_module(module)
    if hasattr(m, "build_parser"):
        return m.build_parser()

    def grab(self, *args, **kwargs):
        raise _Captured(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(argparse.ArgumentParser, "parse_args", grab)
        mp.setattr(argparse.ArgumentParser, "parse_known_args", grab)
        try:
            m.main([])
        except _Captured as c:
            return c.args[0]
    raise AssertionError(f"{module}.main built no argparse parser")


def walk(parser: argparse.ArgumentParser, path: str):
    "Every (command path, parser) under `parser`, itself included."
    yield path, parser
    seen = set()
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                if id(sub) not in seen:  # aliases of one subcommand
                    seen.add(id(sub))
                    yield from walk(sub, f"{path} {name}")


FLAGS = {s.flag: (c, s) for c, s in CONCEPTS.items()}
OLD = {old: (c, s) for c, s in CONCEPTS.items() for old in s.deprecated}


def violations(parser: argparse.ArgumentParser, prog: str) -> list[str]:
    "Every option of `parser` and its subcommands that breaks the vocabulary, as readable lines."
    bad = []
    for path, p in walk(parser, prog):
        dests_of = {}
        for a in p._actions:
            for o in a.option_strings:
                dests_of.setdefault(o, set()).add(a.dest)
        for a in p._actions:
            for o in a.option_strings:
                where = f"{path}: {o} (dest {a.dest!r})"
                if o in ALWAYS:
                    continue
                if o in OLD and OLD[o][1].dest == a.dest:  # an old spelling, with its concept's dest
                    c, spec = OLD[o]
                    if a.help is not argparse.SUPPRESS:
                        bad.append(f"{where}: old spelling of {spec.flag} shown in the help (hide it)")
                    if a.dest not in dests_of.get(spec.flag, set()):
                        bad.append(f"{where}: old spelling of {spec.flag}, but {spec.flag} itself is missing here")
                    continue
                if o in FLAGS:
                    c, spec = FLAGS[o]
                    if a.dest != spec.dest:
                        bad.append(f"{where}: {o} is the {c!r} option and must have dest {spec.dest!r}")
                    continue
                if o in OLD:
                    bad.append(f"{where}: old spelling of {OLD[o][1].flag}, used for another dest")
                elif o not in ALLOWED:
                    bad.append(f"{where}: not in the vocabulary (cryo_metric.cliargs.CONCEPTS) nor an allowed option")
                elif a.dest != o.lstrip("-").replace("-", "_"):
                    bad.append(f"{where}: a command-specific option keeps its own name as dest")
            if "--runs" in a.option_strings and a.dest == CONCEPTS["runs"].dest and a.type is int:
                bad.append(f"{path}: --runs has type=int; --runs names runs (a count is --n-runs)")
    return bad


def _version(parser: argparse.ArgumentParser) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
        parser.parse_args(["--version"])
    assert e.value.code == 0
    return out.getvalue().strip()


@pytest.mark.parametrize("prog", list(CLIS))
def test_version(prog):
    module, package = CLIS[prog]
    parser = parser_of(module)
    assert any("--version" in a.option_strings for a in parser._actions), f"{prog} has no --version"
    version = importlib.import_module(package).__version__
    assert _version(parser) == f"{parser.prog} {version}"


@pytest.mark.parametrize("prog", list(CLIS))
def test_options_follow_the_vocabulary(prog):
    bad = violations(parser_of(CLIS[prog][0]), prog)
    assert not bad, f"{len(bad)} option(s) of {prog} break the shared vocabulary:\n" + "\n".join(bad)


def test_concepts_table_is_one_vocabulary():
    flags = [s.flag for s in CONCEPTS.values()]
    dests = [s.dest for s in CONCEPTS.values()]
    olds = [o for s in CONCEPTS.values() for o in s.deprecated]
    assert len(set(flags)) == len(flags) and len(set(dests)) == len(dests) and len(set(olds)) == len(olds)
    assert not set(ALLOWED) & (set(flags) | set(olds)), "an allowed option shadows a concept"
    for c, s in CONCEPTS.items():
        assert s.flag.startswith("--") and s.dest == s.flag[2:].replace("-", "_"), c
    # an old spelling may be another concept's flag only where a meaning moved: simulate's count --runs -> --n-runs
    assert {o for o in olds if o in flags} == {"--runs"} and OLD["--runs"][0] == "n_runs"
    assert CONCEPTS["runs"].kwargs.get("type", str) is not int


def test_the_check_catches_what_it_should():
    from cryo_metric.cliargs import add_option, add_subparsers, make_parser

    ap = make_parser("x", "x", "0")
    sub = add_subparsers(ap)
    ok = sub.add_parser("ok")
    add_option(ok, "project", deprecated=["--data"])
    add_option(ok, "n_runs", deprecated=["--runs"])
    ok.add_argument("--max-epochs", type=int)
    assert violations(ap, "x") == []
    bad = sub.add_parser("bad")
    bad.add_argument("--runs", type=int)  # a count under the names' option
    bad.add_argument("--data")  # an old spelling without --project, as its own dest
    bad.add_argument("--solution-user", dest="truth_user")  # an old spelling shown in the help, without --truth-user
    bad.add_argument("--project", dest="config")  # a canonical flag with another dest
    bad.add_argument("--tomogram-type")  # not in the vocabulary
    bad.add_argument("--json", dest="as_json")  # allowed, under another dest
    found = "\n".join(violations(ap, "x"))
    for text in [
        "--runs has type=int",
        "--data (dest 'data'): old spelling of --project, used for another dest",
        "--solution-user (dest 'truth_user'): old spelling of --truth-user shown in the help",
        "but --truth-user itself is missing here",
        "--project (dest 'config'): --project is the 'project' option",
        "--tomogram-type (dest 'tomogram_type'): not in the vocabulary",
        "--json (dest 'as_json'): a command-specific option keeps its own name",
    ]:
        assert text in found, (text, found)
    assert "x ok" not in found
