"""`sis-maint window start|schedule|list|end|extend|cancel ...`: the slash command's grammar,
sent to a running bot's HTTP API (SIS_MAINT_API_URL, SIS_MAINT_API_TOKEN), for scripts.

``--json`` prints the API's answer; ``--ticket ID`` gives a change ticket, and
``--approved-by-ticket`` asks for the window to be approved by it (the token needs the role
approve-for-tickets); ``--idempotency-key KEY`` makes a repeated request act once.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cli.api_client import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    ApiClient,
    CommandFailed,
)
from bot.cli.env_help import add_command
from bot.domain.commands import parse
from bot.domain.durations import format_duration
from bot.domain.env_names import EnvironmentNames
from bot.domain.grammar import (
    CancelCommand,
    EndCommand,
    ExtendCommand,
    ListCommand,
    ScheduleCommand,
    StartCommand,
)
from bot.errors import InputError
from bot.process_env import ProcessEnv

VERBS = ("start", "schedule", "list", "end", "extend", "cancel")
_HANDLED = (StartCommand, ScheduleCommand, ListCommand, EndCommand, ExtendCommand, CancelCommand)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``window`` to the CLI."""
    w = add_command(
        sub,
        "window",
        reads=("api_url", "api_token"),
        help="start, schedule, list, end, extend or cancel windows through a running bot's API",
        description=__doc__,
    )
    w.add_argument("verb", choices=VERBS, help="what to do, as the slash command's word")
    w.add_argument("words", nargs=argparse.REMAINDER, help="as after /sis-maint <verb>")
    w.set_defaults(func=cmd_window)


def cmd_window(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Run one window command; print the outcome; return its exit code."""
    as_json = "--json" in args.words
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines are not output
    try:
        words, options = _options([w for w in args.words if w != "--json"])
        client = _client(env)
        answer = _run(client, args.verb, words, options)
    except CommandFailed as exc:
        if as_json:
            print(json.dumps(exc.body, indent=2))
        print(f"sis-maint: {exc}", file=sys.stderr)
        return exc.code
    print(json.dumps(answer, indent=2) if as_json else _plain(answer))
    return EXIT_OK


def _client(env: ProcessEnv) -> ApiClient:
    missing = [
        name
        for name, value in (
            ("SIS_MAINT_API_URL", env.api_url),
            ("SIS_MAINT_API_TOKEN", env.api_token),
        )
        if not value
    ]
    if missing:
        raise CommandFailed(
            EXIT_USAGE,
            f"set {' and '.join(missing)} (the bot's address, e.g. http://127.0.0.1:3000, "
            "and a token from its [api] configuration)",
        )
    assert env.api_url is not None and env.api_token is not None
    return ApiClient(env.api_url, env.api_token.get_secret_value())


def _options(words: list[str]) -> tuple[list[str], dict[str, Any]]:
    """The grammar's words, and the options among them."""
    rest: list[str] = []
    options: dict[str, Any] = {"ticket": None, "by_ticket": False, "key": None}
    flags = {"--ticket": "ticket", "--idempotency-key": "key"}
    taking: str | None = None
    for word in words:
        if taking is not None:
            options[flags[taking]], taking = word, None
        elif word in flags:
            taking = word
        elif word == "--approved-by-ticket":
            options["by_ticket"] = True
        elif word.startswith("--") and word != "--override":
            raise CommandFailed(EXIT_USAGE, f"{word} is not an option of `sis-maint window`")
        else:
            rest.append(word)
    if taking is not None:
        raise CommandFailed(
            EXIT_USAGE, f"say the value after --{taking.replace('key', 'idempotency-key')}"
        )
    return rest, options


def _run(client: ApiClient, verb: str, words: list[str], options: dict[str, Any]) -> Any:
    """Parse as the slash command does, with the bot's environments; then the one call."""
    answer = client.get("/environments")
    listed = answer["environments"]
    names = {e["name"]: e["name"] for e in listed}
    names |= {alias: e["name"] for e in listed for alias in e["aliases"]}
    groups = {group: tuple(members) for group, members in answer.get("groups", {}).items()}
    known = EnvironmentNames(names, groups)
    zones = {e["name"]: e["time_zone"] for e in listed}
    try:
        command = parse(
            " ".join([verb, *words]),
            known,
            now=datetime.now(UTC),
            zone_of=lambda name: zones[name],
        )
    except InputError as exc:
        raise CommandFailed(EXIT_USAGE, str(exc).replace("`", "")) from None
    if not isinstance(command, _HANDLED) or getattr(command, "override", None):
        raise CommandFailed(
            EXIT_USAGE,
            "`sis-maint window` takes start, schedule, list, end, extend and cancel; "
            "series, blackouts and --override are for Slack",
        )
    if (options["ticket"] or options["by_ticket"] or options["key"]) and not isinstance(
        command, StartCommand | ScheduleCommand
    ):
        raise CommandFailed(EXIT_USAGE, "--ticket and --idempotency-key go with start and schedule")
    match command:
        case StartCommand() | ScheduleCommand():
            return client.post("/windows", _create_body(command, options), options["key"])
        case ListCommand():
            return client.get("/windows", params={"state": list(command.which)})
        case ExtendCommand():
            return client.post(f"/windows/{command.window_id}/extend", {"by": _spelled(command.by)})
        case CancelCommand():
            return client.post(f"/windows/{command.window_id}/cancel", {})
        case EndCommand():
            window_id = command.window_id or _holding(client, command.environment or "")
            return client.post(f"/windows/{window_id}/end", {})
    raise AssertionError(command)  # pragma: no cover - _HANDLED lists every case


def _create_body(
    command: StartCommand | ScheduleCommand, options: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {"environments": list(command.environments), "reason": command.reason}
    if isinstance(command, StartCommand):
        body["duration"] = _spelled(command.duration)
    else:
        body["start"] = command.starts_at.isoformat()
        body["end"] = command.ends_at.isoformat()
    if options["ticket"]:
        body["ticket"] = options["ticket"]
    if options["by_ticket"]:
        body["approval"] = "ticket"
    return body


def _holding(client: ApiClient, environment: str) -> int:
    """The one active window that holds only ``environment`` (what `end prod` means)."""
    active = client.get("/windows", params={"state": "active"})["windows"]
    holding = [w for w in active if environment in (e["name"] for e in w["environments"])]
    if not holding:
        raise CommandFailed(EXIT_REFUSED, f"No window holds {environment} off right now.")
    if len(holding) > 1:
        numbers = " and ".join(w["number"] for w in holding)
        raise CommandFailed(EXIT_REFUSED, f"{environment} is held by {numbers}; say which one.")
    window = holding[0]
    if len(window["environments"]) > 1:
        raise CommandFailed(
            EXIT_REFUSED,
            f"{window['number']} also covers other environments; "
            f"`end {window['number']}` ends it on all of them.",
        )
    return int(window["id"])


def _spelled(duration: timedelta) -> str:
    return format_duration(duration).replace(" ", "")


def _plain(answer: Any) -> str:
    """The answer as lines a person reads."""
    if "windows" in answer:
        return "\n".join(_line(w) for w in answer["windows"]) or "No windows."
    return _line(answer)


def _line(window: dict[str, Any]) -> str:
    envs = ",".join(e["name"] for e in window["environments"])
    when = f"{window['starts_at'] or 'on approval'} to {window['ends_at'] or '?'}"
    ticket = f" ticket {window['ticket']}" if window["ticket"] else ""
    return f"{window['number']}\t{window['state']}\t{envs}\t{when}{ticket}\t{window['reason']}"
