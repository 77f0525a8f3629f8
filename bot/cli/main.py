"""The `sis-maint` command: serve, migrate, check-config, audit verify, simulator, coursedog,
window (through a running bot's API), api hash-token."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from bot.cli.api_tokens import register as register_api
from bot.cli.coursedog import register as register_coursedog
from bot.cli.window import register as register_window
from bot.config import load_settings
from bot.errors import ConfigError
from bot.logs import configure_logging
from bot.process_env import ProcessEnv
from bot.run.startup import (
    StartupError,
    simulator_variables,
    slack_configured,
    slack_credentials,
)
from coursedog.wire import SHAPES

EXIT_CONFIG = 2
VERBOSE_HELP = "also log each step of the database migrations"


def cmd_migrate(_args: argparse.Namespace, env: ProcessEnv) -> int:
    """Apply database migrations."""
    from storage.db import upgrade  # noqa: PLC0415

    upgrade(env.database_url)
    print("Database is up to date.")
    return 0


def cmd_check_config(_args: argparse.Namespace, env: ProcessEnv) -> int:
    """Validate the configuration and the credentials it names."""
    settings, source = load_settings(env)
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


def cmd_serve(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Run the bot."""
    from bot.run.serve import run  # noqa: PLC0415 - keeps `--help` and check-config fast

    settings, source = load_settings(env)
    # Now the format and the secrets in the config count.
    configure_logging(env, settings, verbose=args.verbose)
    try:
        token, secret, app_token = slack_credentials(env, http=args.http)
    except StartupError as missing:
        if slack_configured(env):
            raise
        from bot.sandbox.run import run_sandbox  # noqa: PLC0415

        port, page_port = args.port, env.sandbox_port
        return run_sandbox(
            settings, source, env, port=port, page_port=page_port, missing=str(missing)
        )
    return run(
        settings,
        source,
        env,
        token=token,
        secret=secret,
        app_token=app_token,
        host=args.host,
        port=args.port,
        socket_mode=bool(app_token) and not args.http,
    )


def cmd_sandbox(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Run the local sandbox: the bot, the Coursedog simulator and Slack as a web page."""
    from bot.sandbox.run import run_sandbox  # noqa: PLC0415

    settings, source = load_settings(env)
    page_port = env.sandbox_port if args.page_port is None else args.page_port
    return run_sandbox(settings, source, env, port=args.port, page_port=page_port)


def parser(env: ProcessEnv | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``env`` gives the defaults HOST and PORT set."""
    env = env or ProcessEnv.read({})
    p = argparse.ArgumentParser(prog="sis-maint", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    # Also after the command (`sis-maint migrate -v`), without undoing one given before it.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "serve",
        parents=[verbose],
        help="run the bot (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)",
    )
    s.add_argument("--host", default=env.host)
    s.add_argument("--port", type=int, default=env.port)
    s.add_argument("--http", action="store_true", help="HTTP mode even if SLACK_APP_TOKEN is set")
    s.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", parents=[verbose], help="apply database migrations").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser("check-config", help="validate the configuration").set_defaults(
        func=cmd_check_config
    )
    b = sub.add_parser(
        "sandbox",
        parents=[verbose],
        help="try it without a Slack workspace (a page on 127.0.0.1)",
    )
    b.add_argument("--port", type=int, default=env.port, help="bot")
    b.add_argument("--page-port", type=int, default=None, help="default: SANDBOX_PORT or 3001")
    b.set_defaults(func=cmd_sandbox)
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    v = audit.add_parser("verify", help="verify the audit trail's hash chain")
    v.add_argument("--anchor", help="EVENT:HASH printed by an earlier check; it must still hold")
    v.set_defaults(func=cmd_audit_verify)
    m = sub.add_parser("simulator", help="run the local Coursedog simulator")
    m.add_argument("--host", default="127.0.0.1")
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
    args = parser(env).parse_args(argv)
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
