"""The `sis-maint` command: serve, migrate, check-config, audit verify, simulator, coursedog,
window (through a running bot's API), api hash-token."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence

from bot.cli.api_tokens import register as register_api
from bot.cli.coursedog import register as register_coursedog
from bot.cli.env_help import NAMED, add_command, add_group
from bot.cli.window import register as register_window
from bot.config import load_settings
from bot.errors import ConfigError
from bot.logs import configure_logging
from bot.process_env import ProcessEnv
from bot.run.ports import Port, place, place_simulator, simulator_set_by
from bot.run.startup import (
    StartupError,
    simulator_variables,
    slack_configured,
    slack_credentials,
)
from coursedog.wire import SHAPES

log = logging.getLogger(__name__)

EXIT_CONFIG = 2
VERBOSE_HELP = "also log each step of the database migrations"


def cmd_migrate(_args: argparse.Namespace, env: ProcessEnv) -> int:
    """Apply database migrations."""
    from storage.db import upgrade  # noqa: PLC0415

    upgrade(env.database_url)
    print("Database is up to date.")
    return 0


def cmd_check_config(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Validate the configuration and the credentials it names."""
    settings, source = load_settings(env, args.path)
    creds = simulator_variables(settings, env.variables)
    problems = []
    for name, environment in settings.environments.items():
        if not environment.reads:
            continue  # assisted, confirmed by people: no API user to check
        try:
            environment.credentials(name, creds)
        except ConfigError as exc:
            problems.append(str(exc))
    for check in (settings.calendar.token, settings.api.hashes):
        try:
            check(creds)
        except ConfigError as exc:
            problems.append(str(exc))
    for hook in settings.webhooks:
        try:
            hook.secret(creds)
        except ConfigError as exc:
            problems.append(str(exc))
    print(f"Configuration from {source}: {len(settings.environments)} environment(s).")
    for name, e in settings.environments.items():
        print(f"  {name}: {e.label} — {e.base_url} school {e.school} ({e.driver} driver)")
    if not settings.approvers and not any(e.approvers for e in settings.environments.values()):
        print("  warning: no approvers are configured, so nobody can approve a window.")
    for problem in problems:
        print(f"  error: {problem}", file=sys.stderr)
    return EXIT_CONFIG if problems else 0


def cmd_simulator(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Run the Coursedog simulator with the configured schools."""
    from coursedog.simulator import SchoolState, serve  # noqa: PLC0415

    settings, _ = load_settings(env)
    creds = simulator_variables(settings, env.variables)
    users = {}
    for name, environment in settings.environments.items():
        if not environment.reads:
            continue
        email, password = environment.credentials(name, creds)
        users[email] = password.get_secret_value()
    schools = {e.school: SchoolState() for e in settings.environments.values()}
    port = args.port or settings.simulator.port
    serve(args.host, port, schools=schools, users=users, wire=settings.wire(), shape=args.shape)
    return 0


def cmd_audit_verify(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Verify the audit trail's hash chain; non-zero and the first broken event if it fails."""
    from bot.cli.audit import parse_anchor, verify_trail  # noqa: PLC0415

    anchor = parse_anchor(args.anchor) if args.anchor else None
    code, report = verify_trail(env.database_url, anchor)
    print(report, file=sys.stderr if code else sys.stdout)
    return code


def _quiet(env: ProcessEnv, verbose: bool) -> ProcessEnv:
    """The sandbox's logging: its console is the banner, unless LOG_LEVEL or -v asks for more."""
    return env if verbose else env.with_defaults(log_level="WARNING")


def _bot_port(given: int | None, env: ProcessEnv) -> Port:
    return Port(given, "--port") if given is not None else Port(env.port, env.set_by("port"))


def _page_port(given: int | None, env: ProcessEnv) -> Port:
    if given is not None:
        return Port(given, "--page-port")
    return Port(env.sandbox_port, env.set_by("sandbox_port"))


def cmd_serve(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Run the bot; with no Slack credentials at all, the local sandbox."""
    from bot.run.serve import run  # noqa: PLC0415 - keeps `--help` and check-config fast

    settings, source = load_settings(env)
    try:
        token, secret, app_token = slack_credentials(env, http=args.http)
    except StartupError as missing:
        if slack_configured(env):
            raise
        from bot.sandbox.run import run_sandbox  # noqa: PLC0415

        configure_logging(_quiet(env, args.verbose), settings, verbose=args.verbose)
        port, page = _bot_port(args.port, env), _page_port(None, env)
        return run_sandbox(settings, source, env, port=port, page_port=page, missing=str(missing))
    # Now the format and the secrets in the config count.
    configure_logging(env, settings, verbose=args.verbose)
    asked, host = _bot_port(args.port, env), args.host or env.host
    # Slack is told where the bot is: even the default port never moves.
    bot = place(host, Port(asked.number, asked.set_by, "set PORT or pass --port"), "the bot")
    settings, moved = place_simulator(settings, simulator_set_by(env, source))
    if moved:
        log.warning("%s", moved)
    if args.migrate:
        from storage.db import upgrade  # noqa: PLC0415

        upgrade(env.database_url)
    return run(
        settings,
        source,
        variables=env.variables,
        database_url=env.database_url,
        slack_api_url=env.slack_api_url,
        token=token,
        secret=secret,
        app_token=app_token,
        host=host,
        port=bot.number,
        socket_mode=bool(app_token) and not args.http,
    )


def cmd_sandbox(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Run the local sandbox: the bot, the Coursedog simulator and Slack as a web page."""
    from bot.sandbox.run import run_sandbox  # noqa: PLC0415

    settings, source = load_settings(env)
    configure_logging(_quiet(env, args.verbose), settings, verbose=args.verbose)
    port, page = _bot_port(args.port, env), _page_port(args.page_port, env)
    return run_sandbox(settings, source, env, port=port, page_port=page)


CONFIG_READS = ("config_file", NAMED)


def parser() -> argparse.ArgumentParser:
    """The argument parser (the commands read their defaults from the environment)."""
    p = argparse.ArgumentParser(
        prog="sis-maint",
        description=__doc__,
        epilog="`sis-maint COMMAND --help` explains a command's options and the environment "
        "variables it reads.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    # Also after the command (`sis-maint migrate -v`), without undoing one given before it.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = add_command(
        sub,
        "serve",
        reads=(
            "config_file",
            "host",
            "port",
            "sandbox_port",
            "slack_bot_token",
            "slack_signing_secret",
            "slack_app_token",
            "slack_api_url",
            "database_url",
            NAMED,
        ),
        parents=[verbose],
        help="run the bot (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)",
        description="Run the bot: in Socket Mode when SLACK_APP_TOKEN is set, else serving "
        "POST /slack/events in HTTP mode. With no Slack variable set at all it starts the "
        "local sandbox instead (see `sis-maint sandbox --help`; SANDBOX_PORT moves its page).",
    )
    s.add_argument(
        "--host", default=None, help="the address to listen on (default: HOST, else 127.0.0.1)"
    )
    s.add_argument(
        "--port", type=int, default=None, help="the port to listen on (default: PORT, else 3000)"
    )
    s.add_argument("--http", action="store_true", help="HTTP mode even if SLACK_APP_TOKEN is set")
    s.add_argument(
        "--migrate",
        action="store_true",
        help="apply the database migrations to DATABASE_URL first (`make run` does); "
        "the sandbox migrates its own temporary ledger",
    )
    s.set_defaults(func=cmd_serve)
    add_command(
        sub,
        "migrate",
        reads=("database_url",),
        parents=[verbose],
        help="apply the database migrations",
    ).set_defaults(func=cmd_migrate)
    c = add_command(
        sub,
        "check-config",
        reads=CONFIG_READS,
        help="validate the configuration and the credentials it names",
        description="Validate a configuration file (PATH, else SIS_MAINT_CONFIG's, else the "
        "embedded defaults) and check that the variables it names are set. Each mistake is "
        "named by its table and key. Exit 0 when it is usable, 2 when not.",
    )
    c.add_argument(
        "path", nargs="?", metavar="PATH", help="the TOML file (default: SIS_MAINT_CONFIG)"
    )
    c.set_defaults(func=cmd_check_config)
    b = add_command(
        sub,
        "sandbox",
        reads=("config_file", "port", "sandbox_port", NAMED),
        parents=[verbose],
        help="try it without a Slack workspace (a page on 127.0.0.1)",
        description="Run the bot, the Coursedog simulator and a stand-in for Slack as a page "
        "on 127.0.0.1, on a temporary ledger. A default port that is busy is replaced by a "
        "free one (the banner says which); a port that was set and is busy is an error. "
        "The bot's log lines show only from LOG_LEVEL=INFO (here the default is WARNING).",
    )
    b.add_argument("--port", type=int, default=None, help="the bot's port (default: PORT or 3000)")
    b.add_argument(
        "--page-port",
        type=int,
        default=None,
        help="the page's port (default: SANDBOX_PORT or 3001)",
    )
    b.set_defaults(func=cmd_sandbox)
    audit = add_group(sub, "audit", help="commands on the audit trail")
    v = add_command(
        audit,
        "verify",
        reads=("database_url",),
        help="verify the audit trail's hash chain",
        description="Check the audit trail's hash chain in the ledger; name the first altered "
        "event and exit 1 if it is broken. Keep the EVENT:HASH it prints to pass to --anchor "
        "later.",
    )
    v.add_argument("--anchor", help="EVENT:HASH printed by an earlier check; it must still hold")
    v.set_defaults(func=cmd_audit_verify)
    m = add_command(
        sub,
        "simulator",
        reads=CONFIG_READS,
        help="run the local Coursedog simulator",
        description="Serve the Coursedog simulator on its own, with the configured schools "
        "and the service user each environment names.",
    )
    m.add_argument("--host", default="127.0.0.1", help="the address (default: 127.0.0.1)")
    m.add_argument("--port", type=int, default=0, help="default: simulator.port from the config")
    m.add_argument(
        "--shape",
        choices=SHAPES,
        default="seen",
        help="reads answer only what has been seen of Coursedog (default), or also the "
        "assumed nightly and real-time booleans",
    )
    m.set_defaults(func=cmd_simulator)
    register_coursedog(sub)
    register_window(sub)
    register_api(sub)
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        env = ProcessEnv.read(environ)  # the one read of the process environment
    except ConfigError as exc:
        print(f"sis-maint: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    args = parser().parse_args(argv)
    try:
        configure_logging(env, verbose=args.verbose)
        return int(args.func(args, env))
    except (ConfigError, StartupError) as exc:
        print(f"sis-maint: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
