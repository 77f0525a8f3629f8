"""The `verify-writes` subcommand of `sis-maint coursedog`: prove a stored write contract.

It writes to Coursedog: the schedule read is written back as it is, and with --toggle one
schedule is switched off and back on, each step verified by reading (see
bot.services.verification). It refuses a production environment unless given --production,
and an environment without a stored contract (learn one first).

Exit codes: 0 proven (and recorded), 1 not proven or an unexpected error (nothing recorded),
2 refused before anything was sent.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli.env_help import NAMED, add_command
from bot.clock import SystemClock
from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.process_env import ProcessEnv
from bot.run.startup import StartupError, check_database, simulator_variables
from bot.services.contracts import WriteStanding
from bot.services.learning import actor
from bot.services.verification import NotProven, Proof, verify
from coursedog.errors import CoursedogError
from storage import contracts
from storage.db import make_engine, make_sessions

log = logging.getLogger(__name__)
EXIT_NOT_PROVEN = 1
EXIT_REFUSED = 2


def add_verify_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``verify-writes`` to the ``coursedog`` group's subcommands."""
    verify_writes = add_command(
        commands,
        "verify-writes",
        reads=("config_file", "database_url", NAMED),
        help="prove an environment's learned writes with a harmless round trip (it writes)",
        description="Read the schedule, write the same value back through the environment's "
        "stored write contract and read it again; with --toggle also switch one schedule off "
        "and back on. What was proved is recorded: the writes' standing becomes verified.",
    )
    verify_writes.add_argument("environment", metavar="ENV", help="a non-production one")
    verify_writes.add_argument(
        "--toggle", action="store_true", help="also switch one schedule off and back on"
    )
    verify_writes.add_argument(
        "--production",
        action="store_true",
        help="allow a production environment (it writes to production)",
    )
    verify_writes.set_defaults(func=cmd_verify_writes)


def cmd_verify_writes(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Prove the environment's stored write contract; record the proof."""
    from bot.run.clients import coursedog_clients  # noqa: PLC0415
    from bot.run.contracts import write_standings  # noqa: PLC0415 - keeps `--help` fast

    settings, _ = load_settings(env)
    try:
        name = _environment(settings, args.environment, production=args.production)
        url = env.database_url
        check_database(url)
        standing = write_standings(url, settings)[name]
        _has_contract(standing)
        clients = coursedog_clients(
            settings,
            simulator_variables(settings, env.variables),
            only=[name],
            contracts={name: standing.contract} if standing.contract else {},
        )
    except (ConfigError, StartupError) as exc:
        print(f"sis-maint: not verified: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    client = clients[name]
    assert standing.contract is not None
    proof = Proof(
        host=client.host,
        write=standing.contract.schedule.label,
        read=settings.wire(name).schedule_read_path,
    )
    try:
        verify(client, proof, toggle=args.toggle, writable=standing.contract.schedule.knows)
    except NotProven as exc:
        back = "is back as it was" if exc.restored else "may NOT be as it was: check it now"
        print(f"sis-maint: {name}'s writes are not proven: {exc}", file=sys.stderr)
        print(f"  The schedule {back} (Merge Settings of {name}).", file=sys.stderr)
        return EXIT_NOT_PROVEN
    except CoursedogError as exc:  # before anything was written: the first read failed
        print(f"sis-maint: {name}'s writes are not proven: {exc}", file=sys.stderr)
        return EXIT_NOT_PROVEN
    finally:
        client.close()
    _record(url, name, proof)
    print(_said(name, proof))
    print("The bot trusts these writes from its next start: restart it (every replica).")
    return 0


def _environment(settings: Settings, wanted: str, *, production: bool) -> str:
    name = settings.environment_names().get(wanted.strip().lower())
    if name is None:
        known = ", ".join(settings.environments)
        raise ConfigError(f"there is no environment {wanted!r} in the configuration ({known})")
    env = settings.environments[name]
    if env.is_production and not production:
        raise ConfigError(
            f"{name} is a production environment ({env.host}): verifying writes there switches "
            "its merges. Verify on staging, or pass --production if that is what you mean."
        )
    if not env.reads:
        raise ConfigError(f"{name} has no API user (email_env, password_env): nothing to verify")
    return name


def _has_contract(standing: WriteStanding) -> None:
    if standing.contract is None:
        raise ConfigError(
            f"no write contract is stored for {standing.environment}: learn one first with "
            f"`sis-maint coursedog learn RECORDING.har --env {standing.environment} --write`"
        )


def _record(url: str, name: str, proof: Proof) -> None:
    engine = make_engine(url)
    try:
        with make_sessions(engine).begin() as session:
            contracts.record_verified(
                session,
                environment=name,
                host=proof.host,
                proof=proof.as_json(),
                at=SystemClock().now(),
                actor=actor(),
                summary=_said(name, proof),
            )
    finally:
        engine.dispose()


def _said(name: str, proof: Proof) -> str:
    how = f", and {proof.toggled} switched off and back on" if proof.toggled else ""
    return (
        f"Verified {name}'s writes on {proof.host}: {proof.write} wrote the schedule back as "
        f"it was{how}, each step read back as written."
    )
