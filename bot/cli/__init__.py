"""The `sis-maint` command: `main` parses the command line; each subcommand has its module."""

from bot.cli.main import main

__all__ = ["main"]
