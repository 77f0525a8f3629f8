"""The command grammar shared by the slash command and the CLI.

start <env>[,<env>...] <duration> [reason]
schedule <env>[,<env>...] <day> <time> [zone] <duration | until <time>> [reason]
end <MW-n | env>
extend <MW-n> <duration>
cancel <MW-n>
status [<env>[,<env>...]]
list [active | upcoming | recent]
history [env] [N]
help [command] (also ``?``, ``-h``, ``--help``)

Recurring series (``schedule <env> every ...`` or ``first sat ...``, ``series ...``,
``end S-n``), blackout periods (``blackout ...``) and a trailing ``--override <reason>`` are
read by bot.domain.commands, which hands everything else to ``parse_command`` here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.durations import parse_duration, spelled_duration
from bot.domain.env_names import group_listing, group_members
from bot.domain.help_topics import HELP_WORDS, topic_for, unknown_command
from bot.domain.plain import check_text
from bot.domain.when import WhenSpec, parse_when
from bot.errors import InputError, UnknownCommand, quote

MAX_REASON = 500
_WINDOW_ID = re.compile(r"^mw-?(\d{1,9})$", re.IGNORECASE)


@dataclass(frozen=True)
class StartCommand:
    """Switch environments off as soon as an approver agrees, for a duration."""

    environments: tuple[str, ...]
    duration: timedelta
    reason: str
    # An approver's reason for going ahead inside a blackout period (``--override ...``).
    override: str | None = None


@dataclass(frozen=True)
class ScheduleCommand:
    """Switch environments off at a set time, if approved before then."""

    environments: tuple[str, ...]
    when: WhenSpec
    reason: str
    override: str | None = None

    @property
    def starts_at(self) -> datetime:
        """The start instant (UTC)."""
        return self.when.start.at

    @property
    def ends_at(self) -> datetime:
        """The end instant (UTC): a wall time given with `until`, else start + duration."""
        if self.when.end is not None:
            return self.when.end.at
        assert self.when.duration is not None
        return self.when.start.at + self.when.duration

    @property
    def notes(self) -> tuple[str, ...]:
        """What the reader should know about the times (an ambiguous wall time, say)."""
        return tuple(
            n for n in (self.when.start.note, self.when.end.note if self.when.end else None) if n
        )


@dataclass(frozen=True)
class EndCommand:
    """End a window now, by its number or by an environment it holds."""

    window_id: int | None = None
    environment: str | None = None


@dataclass(frozen=True)
class ExtendCommand:
    """Move a window's end later."""

    window_id: int
    by: timedelta


@dataclass(frozen=True)
class CancelCommand:
    """Withdraw a window that has not started."""

    window_id: int


@dataclass(frozen=True)
class StatusCommand:
    """Live state of the environments named (one, a list or a group), or of all (none named)."""

    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListCommand:
    """Windows that are active, upcoming or recent (active and upcoming by default)."""

    which: tuple[str, ...] = ("active", "upcoming")


@dataclass(frozen=True)
class HistoryCommand:
    """The newest audit events, for one environment or all."""

    environment: str | None = None
    limit: int = 10


@dataclass(frozen=True)
class HelpCommand:
    """The overview of every command, or one command's details (see bot.domain.help_topics)."""

    topic: str | None = None


Command = (
    StartCommand
    | ScheduleCommand
    | EndCommand
    | ExtendCommand
    | CancelCommand
    | StatusCommand
    | ListCommand
    | HistoryCommand
    | HelpCommand
)
LIST_KINDS = ("active", "upcoming", "recent")
MAX_HISTORY = 50


def parse_window_id(text: str) -> int | None:
    """``MW-12`` (any case, dash optional) -> 12; anything else -> None."""
    match = _WINDOW_ID.match(text.strip())
    return int(match.group(1)) if match else None


def resolve_environments(
    text: str, known: Mapping[str, str], example: str = "start prod 2h"
) -> tuple[str, ...]:
    """Map ``prod,staging`` (or a group, ``all-colleges``) to canonical names, in order and
    each once; refuse unknown ones, listing the known (``example``: a command naming one, for
    the message when none is named)."""
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        members = group_members(known, name)
        if members is None:
            if name not in known:
                listing = ", ".join(f"`{n}`" for n in sorted(set(known.values())))
                raise InputError(
                    f"There is no environment called {quote(raw)}. Known: {listing}."
                    + group_listing(known)
                )
            members = (known[name],)
        names.extend(m for m in members if m not in names)
    if not names:
        raise InputError(f"Name at least one environment, for example `{example}`.")
    return tuple(names)


def resolve_one(text: str, known: Mapping[str, str], usage: str) -> str:
    """One environment for a command that takes one (``usage``: how to write it); a group or a
    list is refused saying so."""
    envs = resolve_environments(text, known)
    if len(envs) > 1:
        what = (
            f"{quote(text)} is a group of {len(envs)} environments"
            if group_members(known, text.strip().lower()) is not None
            else f"{quote(text)} names {len(envs)} environments"
        )
        raise InputError(f"{what}; {usage}")
    return envs[0]


@dataclass(frozen=True)
class _Context:
    environments: Mapping[str, str]
    now: datetime | None
    zone_of: Callable[[str], str] | None


def parse_command(
    text: str,
    environments: Mapping[str, str],
    *,
    now: datetime | None = None,
    zone_of: Callable[[str], str] | None = None,
) -> Command:
    """Parse what follows ``/sis-maint``.

    ``environments`` maps lower-case names and aliases to canonical names; ``now`` and
    ``zone_of`` (an environment's time zone) are needed to read wall times in ``schedule``.
    """
    check_text(text, "command")
    words = text.split()
    if not words:
        raise InputError("The command is empty. Try `/sis-maint help`.")
    parser = _PARSERS.get(words[0].lower())
    if parser is None:
        raise UnknownCommand(unknown_command(words[0]))
    return parser(words[1:], _Context(environments, now, zone_of))


def _parse_help(args: list[str], _ctx: _Context) -> HelpCommand:
    topic = topic_for(args)
    return HelpCommand(topic.name if topic else None)


def _parse_status(args: list[str], ctx: _Context) -> StatusCommand:
    if len(args) > 1:
        raise InputError(
            "`status` takes at most one environment, list or group: `status prod`, "
            "`status prod,staging` (commas, no spaces), or `status` alone for all of them."
        )
    if not args:
        return StatusCommand()
    return StatusCommand(resolve_environments(args[0], ctx.environments, "status prod"))


def _parse_cancel(args: list[str], _ctx: _Context) -> CancelCommand:
    window_id = parse_window_id(args[0]) if len(args) == 1 else None
    if window_id is None:
        raise InputError("Say which window to cancel: `cancel MW-12`.")
    return CancelCommand(window_id)


def _parse_start(args: list[str], ctx: _Context) -> StartCommand:
    if not args:
        raise InputError(
            "Say which environments and for how long, e.g. `start prod 2h Banner patch`."
        )
    envs = resolve_environments(args[0], ctx.environments)
    if len(args) < 2:
        raise InputError(f"Say for how long, e.g. `start {args[0]} 2h`.")
    duration = parse_duration(args[1])
    reason = " ".join(args[2:])
    if len(reason) > MAX_REASON:
        raise InputError(f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.")
    return StartCommand(environments=envs, duration=duration, reason=reason)


def _parse_schedule(args: list[str], ctx: _Context) -> ScheduleCommand:
    if ctx.now is None or ctx.zone_of is None:
        raise ValueError("parsing `schedule` needs now and zone_of")
    if not args:
        raise InputError(
            "Say which environments, when and for how long, e.g. "
            "`schedule prod 2026-12-05 22:00 4h Banner upgrade`."
        )
    envs = resolve_environments(args[0], ctx.environments)
    when = parse_when(args[1:], now=ctx.now, zone=ctx.zone_of(envs[0]))
    reason = " ".join(when.rest)
    if len(reason) > MAX_REASON:
        raise InputError(f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.")
    return ScheduleCommand(environments=envs, when=when, reason=reason)


def _parse_end(args: list[str], ctx: _Context) -> EndCommand:
    if len(args) != 1:
        raise InputError("Say which window to end: `end MW-12` or `end prod`.")
    window_id = parse_window_id(args[0])
    if window_id is not None:
        return EndCommand(window_id=window_id)
    usage = "end one window at a time: `end MW-12` or `end prod`."
    return EndCommand(environment=resolve_one(args[0], ctx.environments, usage))


def _parse_extend(args: list[str], _ctx: _Context) -> ExtendCommand:
    window_id = parse_window_id(args[0]) if args else None
    if window_id is None:
        raise InputError("Say which window and by how much: `extend MW-12 1h`.")
    if len(args) == 2:
        return ExtendCommand(window_id=window_id, by=parse_duration(args[1]))
    # The example names the window asked about, with the duration as they wrote it if it can be.
    written = spelled_duration(args[1:])
    if written is not None:
        raise InputError(f"Write the duration as one word: `extend MW-{window_id} {written}`.")
    raise InputError(f"Say by how much: `extend MW-{window_id} 1h`, `30m` or `1h30m`.")


def _parse_list(args: list[str], _ctx: _Context) -> ListCommand:
    if not args:
        return ListCommand()
    which = args[0].lower()
    if len(args) > 1 or which not in LIST_KINDS:
        raise InputError("List which windows? `list active`, `list upcoming` or `list recent`.")
    return ListCommand((which,))


def _parse_history(args: list[str], ctx: _Context) -> HistoryCommand:
    env: str | None = None
    limit = 10
    for arg in args:
        if arg.isascii() and arg.isdigit():
            # Bounded before int(): Python refuses to read numbers of thousands of digits.
            limit = int(arg) if len(arg) <= 4 else MAX_HISTORY + 1
            if not 1 <= limit <= MAX_HISTORY:
                raise InputError(f"Ask for between 1 and {MAX_HISTORY} events.")
        elif env is None:
            usage = "`history` takes one environment, e.g. `history prod 20`, or none."
            env = resolve_one(arg, ctx.environments, usage)
        else:
            raise InputError("Use `history [env] [N]`, e.g. `history prod 20`.")
    return HistoryCommand(env, limit)


_PARSERS: dict[str, Callable[[list[str], _Context], Command]] = {
    "start": _parse_start,
    "schedule": _parse_schedule,
    "end": _parse_end,
    "extend": _parse_extend,
    "cancel": _parse_cancel,
    "status": _parse_status,
    "list": _parse_list,
    "history": _parse_history,
    **dict.fromkeys(HELP_WORDS, _parse_help),
}
