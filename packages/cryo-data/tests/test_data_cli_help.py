"""Every option of every cryo-data subcommand has help, and every subcommand's help ends with an example."""

from cryo_data.cli import build_parser
from cryo_metric.testing import assert_help_complete


def test_every_option_has_help_and_every_subcommand_an_example():
    assert assert_help_complete(build_parser(), "cryo-data")
