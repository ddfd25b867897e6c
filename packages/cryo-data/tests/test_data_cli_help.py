"""Every option of every cryo-data subcommand has help, and every subcommand's help ends with an example."""

import argparse

from cryo_data.cli import build_parser


def test_every_option_has_help_and_every_subcommand_an_example():
    ap = build_parser()
    subs = [a for a in ap._actions if isinstance(a, argparse._SubParsersAction)][0].choices
    for name, sp in subs.items():
        assert sp.epilog and sp.epilog.startswith("example") and "cryo-data " + name in sp.epilog, name
        assert sp.format_help().rstrip().splitlines()[-1].strip().startswith("cryo-data " + name), name
        for a in sp._actions:
            assert a.help, f"cryo-data {name} {a.option_strings or a.dest} has no help"
