"""The command grammar shared by the slash command and the CLI.

start <env>[,<env>...] <duration> [reason]
end <MW-n | env>
help
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.durations import parse_duration
from bot.errors import InputError, UnknownCommand

MAX_REASON = 500
_WINDOW_ID = re.compile(r"^mw-?(\d{1,9})$", re.IGNORECASE)


@dataclass(frozen=True)
class StartCommand:
    """Switch environments off as soon as an approver agrees, for a duration."""

    environments: tuple[str, ...]
    duration: timedelta
    reason: str


@dataclass(frozen=True)
class EndCommand:
    """End a window now, by its number or by an environment it holds."""

    window_id: int | None = None
    environment: str | None = None


@dataclass(frozen=True)
class HelpCommand:
    """Show the grammar."""


Command = StartCommand | EndCommand | HelpCommand

HELP_LINES: tuple[tuple[str, str], ...] = (
    ("start <env>[,<env>] <duration> [reason]", "ask to switch merges off now, for a while"),
    ("end <MW-n | env>", "end a window now and switch back on what was on before"),
    ("help", "this list"),
)
EXAMPLES: tuple[str, ...] = (
    "start prod 2h Banner patch",
    "start prod,staging 90m",
    "start staging 1h30m Ellucian hotfix",
    "end MW-12",
    "end prod",
)


def parse_window_id(text: str) -> int | None:
    """``MW-12`` (any case, dash optional) -> 12; anything else -> None."""
    match = _WINDOW_ID.match(text.strip())
    return int(match.group(1)) if match else None


def resolve_environments(text: str, known: Mapping[str, str]) -> tuple[str, ...]:
    """Map ``prod,staging`` to canonical names; refuse unknown ones, listing the known."""
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in known:
            listing = ", ".join(f"`{n}`" for n in sorted(set(known.values())))
            raise InputError(f"There is no environment called `{raw.strip()}`. Known: {listing}.")
        canonical = known[name]
        if canonical not in names:
            names.append(canonical)
    if not names:
        raise InputError("Name at least one environment, for example `start prod 2h`.")
    return tuple(names)


def parse_command(text: str, environments: Mapping[str, str]) -> Command:
    """Parse what follows ``/sis-maint``. ``environments`` maps lower-case names and aliases."""
    words = text.split()
    if not words:
        raise InputError("The command is empty. Try `/sis-maint help`.")
    verb, args = words[0].lower(), words[1:]
    if verb in ("help", "?", "-h", "--help"):
        return HelpCommand()
    if verb == "start":
        return _parse_start(args, environments)
    if verb == "end":
        return _parse_end(args, environments)
    raise UnknownCommand(f"`{words[0]}` is not a command I know.")


def _parse_start(args: list[str], environments: Mapping[str, str]) -> StartCommand:
    if not args:
        raise InputError(
            "Say which environments and for how long, e.g. `start prod 2h Banner patch`."
        )
    envs = resolve_environments(args[0], environments)
    if len(args) < 2:
        raise InputError(f"Say for how long, e.g. `start {args[0]} 2h`.")
    duration = parse_duration(args[1])
    reason = " ".join(args[2:])
    if len(reason) > MAX_REASON:
        raise InputError(f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.")
    return StartCommand(environments=envs, duration=duration, reason=reason)


def _parse_end(args: list[str], environments: Mapping[str, str]) -> EndCommand:
    if len(args) != 1:
        raise InputError("Say which window to end: `end MW-12` or `end prod`.")
    window_id = parse_window_id(args[0])
    if window_id is not None:
        return EndCommand(window_id=window_id)
    envs = resolve_environments(args[0], environments)
    if len(envs) > 1:
        raise InputError("End one window at a time: `end MW-12` or `end prod`.")
    return EndCommand(environment=envs[0])
