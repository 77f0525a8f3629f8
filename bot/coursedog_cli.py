"""`sis-maint coursedog ...`: commands that look at a school's Coursedog itself."""

from __future__ import annotations

import argparse

from bot.coursedog_check_cli import add_check_command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``coursedog`` command group and its subcommands to the CLI."""
    group = sub.add_parser("coursedog", help="look at the configured Coursedog instances")
    commands = group.add_subparsers(dest="coursedog_command", required=True)
    add_check_command(commands)
