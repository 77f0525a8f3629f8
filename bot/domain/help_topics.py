"""What ``/sis-maint help`` says: one topic per command, and the closest commands to a typo.

``help`` is an overview (bot.slack.help_blocks adds the environments); ``help <command>`` is
that command's topic: its forms, what to know, examples. A word that is not a command is
answered with the commands closest to it (``suggest``), never with the whole help.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.errors import InputError, quote


@dataclass(frozen=True)
class Topic:
    """One command as help explains it."""

    name: str
    # The usage shown on the overview's line, and the summary beside it.
    short: str
    summary: str
    # Every form of the command, what to know about it, and commands to copy.
    forms: tuple[str, ...]
    notes: tuple[str, ...]
    examples: tuple[str, ...]
    # Other spellings that reach this topic: ``help blackouts``, ``help ?``.
    aliases: tuple[str, ...] = ()
    # Whether it is a command of its own, listed on the overview and suggested for a typo.
    command: bool = True


DURATIONS = "Durations: `45m`, `2h`, `1h30m`, `1d`."

TOPICS: tuple[Topic, ...] = (
    Topic(
        name="start",
        short="start <env> <duration> [reason]",
        summary="switch merges off now, once an approver agrees",
        forms=("start <env>[,<env>] <duration> [reason]",),
        notes=(
            "Merges go off as soon as an approver other than you agrees on the card in the "
            "approvals channel, and come back on when the duration is up.",
            "Where an environment needs two approvers (`/sis-maint help` says which), merges "
            "go off at the second approval; nobody counts twice, and you never count.",
            f"{DURATIONS} Each environment has a longest window (`/sis-maint help` lists them).",
            "A group from the configuration (`/sis-maint help` lists them) stands for its "
            "environments: one window, one card, one approval for all of them.",
            "The reason is shown on the card; keep it under 500 characters.",
        ),
        examples=("start prod 2h Banner patch", "start prod,staging 90m"),
    ),
    Topic(
        name="schedule",
        short="schedule <env> <day> <time> <duration> [reason]",
        summary="switch merges off at a set time, once or on a timetable",
        forms=(
            "schedule <env>[,<env>] <day> <time> [zone] <duration | until <time>> [reason]",
            "schedule <env>[,<env>] every <days> <time> [zone] <duration | until <time>> [reason]",
            "schedule <env>[,<env>] <first|second|third|fourth|last> <weekday> <time> ...",
        ),
        notes=(
            "Days: a date (`2026-12-05`), `today`, `tomorrow`, or a weekday (the next one).",
            "Times are read in the environment's zone unless you name one (`America/Chicago`).",
            "An approver must agree before the start, or the request expires (two, where the "
            "environment needs two approvers).",
            "`every sat`, `every mon,thu`, `every day` or `first sat` make a recurring series, "
            "approved once (see `/sis-maint help series`).",
            DURATIONS,
        ),
        examples=(
            "schedule prod 2026-12-05 22:00 4h Banner upgrade",
            "schedule prod tomorrow 22:00 until 06:00",
            "schedule prod,staging sat 01:00 America/Chicago 3h",
            "schedule prod every sat 02:30 1h Banner weekly",
            "schedule prod first sat 02:30 1d Banner monthly",
        ),
    ),
    Topic(
        name="series",
        short="series [list | skip | edit | end]",
        summary="recurring windows: their next occurrences, skip one, new times, stop",
        forms=(
            "series [list]",
            "series skip <S-n> <YYYY-MM-DD> | series skip <MW-n>",
            "series edit <S-n> <time> <duration | until <time>>",
            "series end <S-n>",
        ),
        notes=(
            "Series are numbered `S-1`, `S-2`, …; `schedule … every …` makes one.",
            "`series edit` gives new times to occurrences that have not started; "
            "`series end` makes no new ones (a running one keeps its end).",
        ),
        examples=("series", "series skip S-1 2026-12-26", "series edit S-1 03:00 2h"),
    ),
    Topic(
        name="blackout",
        short="blackout [add | list | remove]",
        summary="periods in which no window may be requested",
        forms=(
            "blackout add [env] <date> [time] until <date> [time] [zone] <name>",
            "blackout list",
            "blackout remove <B-n>",
        ),
        notes=(
            "Approvers add and remove them; everyone may list them. "
            "They are numbered `B-1`, `B-2`, …",
            "Without an environment a blackout holds for every one.",
            "An approver may still go ahead inside one: see `/sis-maint help override`.",
        ),
        examples=(
            "blackout add 2027-01-11 until 2027-01-15 Registration opening",
            "blackout list",
            "blackout remove B-1",
        ),
        aliases=("blackouts",),
    ),
    Topic(
        name="end",
        short="end <MW-n | env>",
        summary="end a window now; what was on before goes back on",
        forms=("end <MW-n | env>", "end <S-n>"),
        notes=(
            "Ending switches back on what was on before the window, never simply everything, "
            "and reports the read-back.",
            "`end S-n` ends a recurring series (see `/sis-maint help series`).",
            "The requester or an approver may end a window.",
        ),
        examples=("end MW-12", "end prod"),
    ),
    Topic(
        name="extend",
        short="extend <MW-n> <duration>",
        summary="move a window's end later",
        forms=("extend <MW-n> <duration>",),
        notes=(
            "Every pending reminder moves with the end. The requester or an approver may extend.",
            DURATIONS,
        ),
        examples=("extend MW-12 1h",),
    ),
    Topic(
        name="cancel",
        short="cancel <MW-n>",
        summary="withdraw a window that has not started",
        forms=("cancel <MW-n>",),
        notes=("A window that has started is ended instead: `/sis-maint end MW-n`.",),
        examples=("cancel MW-12",),
    ),
    Topic(
        name="status",
        short="status [env]",
        summary="live merge switches per environment, and which window holds them",
        forms=("status", "status <env>[,<env>]"),
        notes=(
            "The switches are read from Coursedog as you ask, for every environment or for "
            "those you name; a group (`/sis-maint help` lists them) stands for its environments.",
            "Past 10 environments they are summed up by state: the most common first with its "
            "count, then those that differ.",
        ),
        examples=("status", "status prod", "status prod,staging"),
    ),
    Topic(
        name="list",
        short="list [active | upcoming | recent]",
        summary="windows (active and upcoming by default)",
        forms=("list [active | upcoming | recent]",),
        notes=("Windows are numbered `MW-1`, `MW-2`, …",),
        examples=("list", "list recent"),
    ),
    Topic(
        name="history",
        short="history [env] [N]",
        summary="the last N events of the audit trail (10 by default, at most 50)",
        forms=("history [env] [N]",),
        notes=("Newest first, for one environment or all.",),
        examples=("history", "history prod 20"),
    ),
    Topic(
        name="help",
        short="help [command]",
        summary="this overview, or one command's details",
        forms=("help", "help <command>"),
        notes=("`/sis-maint` alone opens a form with the same fields.",),
        examples=("help schedule",),
        aliases=("?", "-h", "--help"),  # HELP_WORDS
    ),
    Topic(
        name="override",
        short="... --override <reason>",
        summary="approvers: go ahead inside a blackout period",
        forms=(
            "start … --override <reason>",
            "schedule … --override <reason>",
            "series edit … --override <reason>",
        ),
        notes=(
            "Only an approver may; the reason is kept in the audit trail and shown on the card.",
        ),
        examples=("schedule prod 2027-01-12 22:00 1h Banner fix --override registrar agreed",),
        aliases=("--override",),
        command=False,
    ),
)

COMMANDS: tuple[str, ...] = tuple(t.name for t in TOPICS if t.command)
HELP_WORDS: tuple[str, ...] = ("help", "?", "-h", "--help")

# Words people reach for that are not commands, and the command that does it.
SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("stop", "finish", "done", "restore", "resume", "enable"), "end"),
    **dict.fromkeys(("abort", "withdraw", "delete", "remove"), "cancel"),
    **dict.fromkeys(("request", "new", "begin", "disable", "off", "pause"), "start"),
    **dict.fromkeys(("plan", "book", "later", "at"), "schedule"),
    **dict.fromkeys(("prolong", "more", "longer"), "extend"),
    **dict.fromkeys(("state", "show", "check"), "status"),
    **dict.fromkeys(("ls", "windows", "upcoming", "active", "recent"), "list"),
    **dict.fromkeys(("log", "logs", "audit", "events"), "history"),
    **dict.fromkeys(("recurring", "every", "repeat", "weekly", "monthly"), "series"),
    **dict.fromkeys(("freeze", "blackouts"), "blackout"),
    **dict.fromkeys(("usage", "commands", "h"), "help"),
}

_BY_NAME: dict[str, Topic] = {name: t for t in TOPICS for name in (t.name, *t.aliases)}


def find_topic(word: str) -> Topic | None:
    """The topic named (any case, aliases too), or None."""
    return _BY_NAME.get(word.strip().lower())


def suggest(word: str, limit: int = 3) -> tuple[str, ...]:
    """The commands closest to ``word``: a word people use for one, then prefixes, then spelling."""
    typed = word.strip().lower()
    found: list[str] = []
    if typed in SYNONYMS:
        found.append(SYNONYMS[typed])
    if len(typed) >= 2:
        found += [c for c in COMMANDS if c.startswith(typed)]
    found += difflib.get_close_matches(typed, COMMANDS, n=limit, cutoff=0.6)
    return tuple(dict.fromkeys(found))[:limit]


def either(names: tuple[str, ...]) -> str:
    """```a` or `b```, ```a`, `b` or `c```."""
    shown = [f"`{n}`" for n in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def unknown_command(word: str) -> str:
    """What someone who typed ``word`` as a command reads: the closest commands, or them all."""
    return f"{quote(word)} is not a command I know. {_closest(word)}"


def topic_for(words: list[str]) -> Topic | None:
    """The topic ``help <words>`` asks for (None: the overview); an unknown one is refused."""
    if not words:
        return None
    topic = find_topic(words[0])
    if topic is None:
        raise InputError(f"There is no help on {quote(words[0])}. {_closest(words[0])}")
    return topic


def _closest(word: str) -> str:
    near = suggest(word)
    if len(near) == 1:
        return f"Did you mean `{near[0]}`? `/sis-maint help {near[0]}` shows how to use it."
    if near:
        return f"Did you mean {either(near)}? `/sis-maint help` lists every command."
    return f"The commands are {either(COMMANDS)}. `/sis-maint help` says what each does."
