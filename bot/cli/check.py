"""The `check` subcommand of `sis-maint coursedog`: read-only, every read the bot makes."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.env_help import NAMED, add_command
from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.logs import configure_logging
from bot.process_env import ProcessEnv
from bot.run.startup import StartupError, simulator_variables
from bot.services.contracts import WriteStanding
from bot.services.drivers import Drivers


def add_check_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``check`` to the ``coursedog`` group's subcommands."""
    check = add_command(
        commands,
        "check",
        reads=("config_file", "database_url", NAMED),
        help="read-only: log in, make every read the bot makes, say whether it understands "
        "each answer (exit 0), or not (1); 2 for a configuration error",
    )
    check.add_argument("environments", nargs="*", metavar="ENV", help="default: every one")
    check.add_argument("--json", action="store_true", help="the report as JSON, for scripts")
    check.set_defaults(func=cmd_check)


# What a write's standing is shown as when the ledger cannot be read.
UNREAD = ("unknown (the ledger cannot be read)", None)


def _standings(settings: Settings, database_url: str) -> dict[str, WriteStanding]:
    """Each environment's write standing from the ledger; on stderr why not, when it cannot be
    read (the writes are then shown as of unknown standing)."""
    from bot.run.contracts import write_standings  # noqa: PLC0415

    try:
        return write_standings(database_url, settings)
    except (StartupError, ConfigError) as exc:
        print(f"sis-maint: the writes' standing cannot be read: {exc}", file=sys.stderr)
        return {}


def cmd_check(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Check each environment's Coursedog by reading only; never prints a secret or a token."""
    from bot.cli.check_render import render_json, render_text  # noqa: PLC0415
    from bot.cli.check_report import run_check  # noqa: PLC0415 - keeps `--help` fast
    from coursedog.session import SessionPool  # noqa: PLC0415

    settings, source = load_settings(env)
    # The report says what happened; the log only what goes wrong, unless LOG_LEVEL says more.
    configure_logging(env.with_defaults(log_level="WARNING"), settings)
    standings = _standings(settings, env.database_url)
    pool = SessionPool()
    report = run_check(
        settings,
        simulator_variables(settings, env.variables),
        args.environments,
        pool=pool,
        standing_of=lambda name: standings[name].pair() if name in standings else UNREAD,
        contract_of=lambda name: standings[name].contract if name in standings else None,
        driver_of=Drivers(settings, standings).of,
    )
    if args.json:
        text = json.dumps(render_json(report), indent=2, ensure_ascii=False) + "\n"
    else:
        text = f"Coursedog as configured in {source}, read only (nothing is written):\n\n"
        text += render_text(report)
    for session in pool.sessions():
        text = session.mask(text)  # a secret echoed back by a server never reaches the screen
    sys.stdout.write(text)
    return report.exit_code
