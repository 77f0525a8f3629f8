"""The environment variables a subcommand reads, as its ``--help`` lists them.

Each command names the fields of ProcessEnv it reads (tests/bot/test_cli_help.py checks the
names against the code); the variables' meanings come from ProcessEnv itself.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from bot.process_env import ProcessEnv

# Not a field: the variables the configuration file names, looked up in ProcessEnv.variables.
NAMED = "variables"
NAMED_HELP = (
    "  and the variables the configuration names: each environment's email_env and\n"
    "  password_env (the Coursedog service user; the embedded simulator's demo user when\n"
    "  unset), coursedog_notice's username_env and password_env, calendar.token_env"
)
WIDTH = 88
LOGGING = ("log_level", "log_format")  # main() sets up logging for every command


def epilog(reads: tuple[str, ...]) -> str:
    """The "environment variables" paragraph of a command's help."""
    lines = ["environment variables:"]
    for name in (*reads, *LOGGING):
        if name != NAMED:
            info = ProcessEnv.model_fields[name]
            lines.append(f"  {info.alias:<21} {info.description}")
    if NAMED in reads:
        lines.append(NAMED_HELP)
    return "\n".join(lines)


def add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    reads: tuple[str, ...],
    help: str,
    **options: Any,
) -> argparse.ArgumentParser:
    """A subcommand whose help ends with the environment variables it reads."""
    return commands.add_parser(
        name,
        help=help,
        description=_wrapped(options.pop("description", None) or help[0].upper() + help[1:] + "."),
        epilog=epilog(reads),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **options,
    )


def add_group(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, *, help: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """A command of subcommands (``audit verify``), whose own help lists them."""
    group = commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def _wrapped(description: str) -> str:
    """One paragraph is filled to the width; text laid out by hand is kept as it is."""
    return description if "\n" in description else textwrap.fill(description, WIDTH)
