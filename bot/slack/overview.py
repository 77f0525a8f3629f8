"""Rendering status, window lists and history: pure functions to Block Kit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain.durations import format_duration
from bot.domain.states import WindowState
from bot.services.status import EnvironmentStatus, HistoryEntry
from bot.services.views import SYSTEM, WindowView, ended_clause
from bot.slack.blocks import is_overdue
from bot.slack.event_words import event_words
from bot.slack.kit import Block, context, header, section
from bot.slack.text import escape, list_time, shorten, slack_time, user

SECTION_LIMIT = 2900  # Slack allows 3,000 characters in a section's text
STATUS_EACH = 10  # environments shown a section each by status; more are summed up by state
STATUS_STATES = 20  # sections of a summed-up status; the environments past them share one line
STATUS_CHARS = 12_000  # of a summed-up status's sections, so many environments read at a glance
NAMES_LIMIT = 300  # of the names listed together in a summed-up status
DETAIL_LIMIT = 200  # of an event's detail in the history, so a screen holds several events
_TITLES = {"active": "Active windows", "upcoming": "Upcoming windows", "recent": "Recently ended"}


def status_line(status: EnvironmentStatus, now: datetime) -> str:
    """What one environment's merges are doing, and why."""
    if status.live is None:
        live = f":grey_question: could not read the switches: {escape(status.error or '')}"
    elif status.live.is_off():
        live = f":no_entry: {status.live.describe()}"
    else:
        live = f":large_green_circle: {status.live.describe()}"
    lines = [live]
    for view in status.holders:
        until = list_time(view.ends_at, view.time_zone, now) if view.ends_at else "its end"
        overdue = " — *overdue*" if is_overdue(view, now) else ""
        lines.append(
            f"Held off by *{view.number}* ({view.state}) until {until}{overdue}; "
            f"owner {user(view.requester_id)}"
        )
    if status.baseline is not None:
        lines.append(f"Restores to: {status.baseline.describe()}")
    if not status.holders and status.live is not None and status.live.is_off():
        lines.append("No window explains this: edits in Coursedog are not reaching the SIS.")
    return "\n".join(lines)


def render_status(
    statuses: Sequence[EnvironmentStatus], labels: Mapping[str, str], now: datetime, zone: str
) -> list[Block]:
    """Live switches per environment, the windows holding them, and what they restore to.

    Up to ``STATUS_EACH`` environments get a section each; more are summed up by state (see
    ``_by_state``), so the answer stays within Slack's 50 blocks and 3,000 characters a text.
    """
    blocks: list[Block] = [header("Coursedog merge switches")]
    if len(statuses) <= STATUS_EACH:
        blocks.extend(section(_clip(_one(status, labels, now))) for status in statuses)
    else:
        blocks.extend(_by_state(statuses, labels, now))
    blocks.append(context(f"Read from Coursedog at {slack_time(now, zone)}."))
    return blocks


def _one(status: EnvironmentStatus, labels: Mapping[str, str], now: datetime) -> str:
    label = escape(labels.get(status.name, status.name))
    return f"*`{status.name}`* {label}\n{status_line(status, now)}"


def _by_state(
    statuses: Sequence[EnvironmentStatus], labels: Mapping[str, str], now: datetime
) -> list[Block]:
    """Environments whose state reads the same share a section: the most common state first
    ("*48 of 50:* `a`, `b` …and 40 more" over its line), then the others, fewest first, so what
    differs is not cut off behind what is usual; one alone is shown as with few environments.
    Past ``STATUS_STATES`` sections or ``STATUS_CHARS`` characters the rest share one line."""
    states: dict[str, list[EnvironmentStatus]] = {}
    for status in statuses:
        states.setdefault(status_line(status, now), []).append(status)
    ordered = sorted(states.items(), key=lambda kv: len(kv[1]), reverse=True)
    ordered[1:] = sorted(ordered[1:], key=lambda kv: len(kv[1]))
    blocks: list[Block] = []
    used = 0
    left: list[EnvironmentStatus] = []
    for line, members in ordered:
        if len(members) == 1:
            text = _clip(_one(members[0], labels, now))
        else:
            text = _clip(f"*{len(members)} of {len(statuses)}:* {_names(members)}\n{line}")
        if left or len(blocks) == STATUS_STATES or used + len(text) > STATUS_CHARS:
            left.extend(members)
            continue
        blocks.append(section(text))
        used += len(text)
    if left:
        more = (
            f"{len(left)} more in other states: {_names(left)}. "
            "`/sis-maint status <env>` shows one."
        )
        blocks.append(context(_clip(more)))
    return blocks


def _names(statuses: Sequence[EnvironmentStatus]) -> str:
    """The environments' names within ``NAMES_LIMIT`` characters, saying how many more."""
    shown: list[str] = []
    length = 0
    for i, status in enumerate(statuses):
        name = f"`{status.name}`"
        if shown and length + len(name) > NAMES_LIMIT:
            return ", ".join(shown) + f" …and {len(statuses) - i} more"
        shown.append(name)
        length += len(name) + 2
    return ", ".join(shown)


def _clip(text: str) -> str:
    """A section's or context's text within Slack's limit."""
    return shorten(text, SECTION_LIMIT)


def window_line(view: WindowView, now: datetime) -> str:
    """One window in a list."""
    envs = ", ".join(f"`{e}`" for e in view.environment_names)
    if view.starts_at and view.ended_at:  # when it ended, and the plan if that differed
        start, end = (list_time(t, view.time_zone, now) for t in (view.starts_at, view.ended_at))
        when = f"{start} → {end}"
        if view.ended_off_plan and view.ends_at:
            when += f" (planned end {list_time(view.ends_at, view.time_zone, now)})"
    elif view.starts_at and view.ends_at:
        start, end = (list_time(t, view.time_zone, now) for t in (view.starts_at, view.ends_at))
        when = f"{start} → {end}"
    else:
        when = f"{format_duration(view.duration)} from approval"
    overdue = " — *overdue*" if is_overdue(view, now) else ""
    reason = f" — {escape(shorten(view.reason, 120))}" if view.reason else ""
    who = user(view.requester_id)
    state = f"{view.state} {ended_clause(view)}" if view.ended_by else str(view.state)
    if view.state == WindowState.REQUESTED and view.approvals_required > 1:
        state += f" ({view.approvals.count()} approvals)"
    return f"*{view.number}* {envs} · {state}{overdue} · {when} · {who}{reason}"


def render_windows(groups: Mapping[str, Sequence[WindowView]], now: datetime) -> list[Block]:
    """Windows grouped as active, upcoming and recent."""
    blocks: list[Block] = []
    for which, views in groups.items():
        blocks.append(header(_TITLES[which]))
        if not views:
            blocks.append(context(f"No {which} windows."))
        blocks.extend(section(window_line(v, now)) for v in views)
    return blocks


def render_history(
    entries: Sequence[HistoryEntry], environment: str | None, zone: str, now: datetime
) -> list[Block]:
    """The newest audit events, newest first, in as few sections as fit."""
    title = f"History of {environment}" if environment else "History"
    if not entries:
        return [header(title), context("Nothing has happened yet.")]
    lines = [
        f"{list_time(e.at, zone, now)} · "
        + ("system" if e.actor == SYSTEM else user(e.actor))
        + f" · {event_words(e.action)}"
        + (f" · MW-{e.window_id}" if e.window_id else "")
        + (f" · `{e.environment}`" if e.environment else "")
        + (f" · {escape(shorten(e.detail, DETAIL_LIMIT))}" if e.detail else "")
        for e in entries
    ]
    blocks: list[Block] = [header(title)]
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SECTION_LIMIT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk)))
    return blocks


def plain(blocks: Sequence[Block]) -> str:
    """A plain-text fallback: the first header, or a generic line."""
    for block in blocks:
        if block.get("type") == "header":
            return str(block["text"]["text"])
    return "sis-maint"
