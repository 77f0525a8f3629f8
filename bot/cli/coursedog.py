"""`sis-maint coursedog ...`: commands that look at a school's Coursedog itself."""

from __future__ import annotations

import argparse

from bot.cli.check import add_check_command
from bot.cli.env_help import add_group
from bot.cli.learn import add_learn_command
from bot.cli.verify import add_verify_command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``coursedog`` command group and its subcommands to the CLI."""
    commands = add_group(
        sub, "coursedog", help="look at the configured Coursedog instances, learn how they write"
    )
    add_check_command(commands)
    add_learn_command(commands)
    add_verify_command(commands)
