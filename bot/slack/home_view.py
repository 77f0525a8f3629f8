"""The App Home tab of one person: environments, windows with the buttons that person may
press, recurring series, blackout periods, recent history. Pure rendering.

Slack refuses a view of more than 100 blocks, or a section whose text is over 3,000
characters: the windows share what the rest leaves of the 100 blocks, and every list is cut
between lines with a count of what was left out and the command that shows it all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.blackouts import Blackout
from bot.domain.series_states import SeriesState
from bot.domain.states import HOLDING, WindowState
from bot.services.home_board import HomeBoard
from bot.services.series_view import SeriesView
from bot.services.views import WindowView
from bot.slack import ids
from bot.slack.button_values import WindowButton
from bot.slack.kit import Block, actions, button, context, header, section
from bot.slack.overview import SECTION_LIMIT, status_line, window_line
from bot.slack.text import escape, list_time, shorten, user
from bot.slack.window_buttons import window_button

S = WindowState
MAX_BLOCKS = 100  # Slack's limit for a view
MAX_ENVIRONMENTS = 20  # sections of their own; the rest share one line
MAX_SERIES_DECISIONS = 5  # series waiting for this viewer's decision, each with its buttons
RECENT_SHOWN = 5
DIVIDER: Block = {"type": "divider"}


def _buttons(view: WindowView, board: HomeBoard, viewer: str) -> list[Block]:
    """The buttons ``viewer`` may press for ``view``, and no others."""
    envs, requester = view.environment_names, view.requester_id
    if view.state in HOLDING and board.may_manage(envs, requester, viewer):
        return [
            window_button(ids.EXTEND_60, "Extend 1h", view, shown_end=view.ends_at),
            window_button(ids.REENABLE, "Re-enable now", view, "primary"),
        ]
    if view.state == S.REQUESTED and board.may_decide(envs, requester, viewer):
        return [
            window_button(ids.APPROVE, "Approve", view, "primary"),
            window_button(ids.DENY, "Deny", view, "danger"),
        ]
    if view.state == S.REQUESTED and viewer == requester:
        return [window_button(ids.CANCEL, "Withdraw", view, "danger")]
    if view.state == S.APPROVED and board.may_manage(envs, requester, viewer):
        return [window_button(ids.CANCEL, "Cancel", view, "danger")]
    return []


def _window_blocks(view: WindowView, board: HomeBoard, viewer: str) -> list[Block]:
    blocks = [section(_clip(window_line(view, board.now)))]
    buttons = _buttons(view, board, viewer)
    if buttons:
        blocks.append(actions(f"home_{view.id}", *buttons))
    return blocks


def render_home(
    board: HomeBoard,
    viewer: str,
    *,
    labels: Mapping[str, str],
    drivers: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """The home view of ``viewer`` (the notice, if any, answers their last click)."""
    head: list[Block] = [section(_clip(notice))] if notice else []
    head += [_new_request(), header("Coursedog merges"), context(_role(board, viewer, labels))]
    head += _environments(board, labels, drivers or {})
    if board.problems:
        head.append(context(_clip(f":warning: {'; '.join(board.problems)}: " + _MISSING)))
    tail = _series(board, viewer) + _blackouts(board) + _recent(board)
    tail.append(context("Type `/sis-maint help` for every command, or `/sis-maint` for a form."))
    # Each window group: a divider, a header, its windows, and a line for those left out.
    room = MAX_BLOCKS - len(head) - len(tail) - 2 * 3
    groups = []
    for title, views, total in (
        ("Active windows", board.active, board.active_total),
        ("Upcoming windows", board.upcoming, board.upcoming_total),
    ):
        shown, room = _fill(views, board, viewer, room)
        groups += [DIVIDER, header(title), *shown]
        left = total - _count(shown)
        if not views:
            groups.append(context("None."))
        elif left > 0:
            groups.append(context(f"…and {left} more: `/sis-maint list` shows them all."))
        else:
            room += 1  # the line kept for those left out was not needed
    return {"type": "home", "blocks": head + groups + tail}


def _fill(
    views: Sequence[WindowView], board: HomeBoard, viewer: str, room: int
) -> tuple[list[Block], int]:
    """As many windows as ``room`` blocks hold, in order; the room left."""
    shown: list[Block] = []
    for view in views:
        blocks = _window_blocks(view, board, viewer)
        if len(blocks) > room:
            break
        shown += blocks
        room -= len(blocks)
    return shown, room


def _count(blocks: Sequence[Block]) -> int:
    """Windows among rendered blocks (each has exactly one section)."""
    return sum(1 for b in blocks if b["type"] == "section")


def _new_request() -> Block:
    block = section(
        "*Need merges off for SIS maintenance?* The form asks for the environments, "
        "the start and the length, as `/sis-maint` does."
    )
    block["accessory"] = button(ids.HOME_NEW_REQUEST, "New request", "form", "primary")
    return block


def _role(board: HomeBoard, viewer: str, labels: Mapping[str, str]) -> str:
    """What this viewer may do, so a tab without buttons is not a puzzle."""
    approves = [e for e in labels if viewer in board.approvers.get((e,), frozenset())]
    if approves:
        envs = ", ".join(f"`{e}`" for e in approves)
        return (
            f"You approve requests on {envs} (never your own), and may end, extend or cancel "
            "windows there."
        )
    return (
        "You may request windows, and end, extend or cancel your own; approvers decide. "
        "You see the buttons you may press."
    )


_MISSING = "approvers in that group see no Approve buttons here until it can be read."


def _environments(
    board: HomeBoard, labels: Mapping[str, str], drivers: Mapping[str, str]
) -> list[Block]:
    blocks = []
    for status in board.statuses[:MAX_ENVIRONMENTS]:
        label = escape(labels.get(status.name, status.name))
        how = f" _({drivers[status.name]})_" if status.name in drivers else ""
        line = f"*`{status.name}`* {label}{how}\n{status_line(status, board.now)}"
        blocks.append(section(_clip(line)))
    rest = board.statuses[MAX_ENVIRONMENTS:]
    if rest:
        names = ", ".join(f"`{s.name}`" for s in rest)
        blocks.append(context(_clip(f"Also {names}: `/sis-maint status` reads them.")))
    return blocks


def _series(board: HomeBoard, viewer: str) -> list[Block]:
    """Live series, one line each with what comes next; those waiting for this viewer's
    decision first, each with its buttons."""
    blocks: list[Block] = [DIVIDER, header("Recurring series")]
    deciding = [
        s
        for s in board.series
        if s.state == SeriesState.REQUESTED
        and board.may_decide(s.environments, s.requester_id, viewer)
    ][:MAX_SERIES_DECISIONS]
    for view in deciding:
        value = WindowButton.showing(view.id).encode()
        blocks.append(section(_clip(home_series_line(view, board.now))))
        blocks.append(
            actions(
                f"home_series_{view.id}",
                button(ids.SERIES_APPROVE, "Approve series", value, "primary"),
                button(ids.SERIES_DENY, "Deny", value, "danger"),
            )
        )
    others = [home_series_line(s, board.now) for s in board.series if s not in deciding]
    if others:
        blocks.append(section(_lines(others, "series", "`/sis-maint series list`")))
    elif not deciding:
        blocks.append(context("None."))
    return blocks


def home_series_line(view: SeriesView, now: datetime) -> str:
    """``S-1 `prod` · every Saturday at 02:30 for 1h · next: ... (MW-4, approved)``."""
    envs = ", ".join(f"`{e}`" for e in view.environments)
    text = f"*{view.number}* {envs} · {escape(view.recurrence.describe())} · "
    text += f"{user(view.requester_id)}"
    if view.reason:
        text += f" — {escape(shorten(view.reason, 80))}"
    nxt = view.upcoming[0] if view.upcoming else None
    when = list_time(nxt.occurrence.start, view.recurrence.zone, now) if nxt else None
    if view.state == SeriesState.REQUESTED:
        first = f"; first {when}" if when else ""
        return text + f"\n    waiting for an approver: nothing is scheduled until then{first}"
    if nxt is None:
        return text + "\n    no further occurrences"
    if nxt.window_id is not None:
        return text + f"\n    next: {when}, as MW-{nxt.window_id} ({nxt.window_state})"
    return text + f"\n    next: {when}, scheduled as an approved window ahead of its start"


def _blackouts(board: HomeBoard) -> list[Block]:
    blocks: list[Block] = [DIVIDER, header("Blackout periods")]
    if not board.blackouts:
        return [*blocks, context("None ahead.")]
    lines = [blackout_line(p, board.now) for p in board.blackouts]
    blocks.append(section(_lines(lines, "periods", "`/sis-maint blackout list`")))
    blocks.append(context("An approver may still go ahead inside one with `--override <reason>`."))
    return blocks


def blackout_line(period: Blackout, now: datetime) -> str:
    """One period and what it means next: refused now until its end, or from its start."""
    source = "configuration file" if period.from_config else period.key
    name = f"*{escape(period.name)}* ({source}) · {escape(period.where())}"
    start = list_time(period.starts_at, period.zone, now)
    end = list_time(period.ends_at, period.zone, now)
    if period.starts_at <= now:
        return f":no_entry: {name}\n    in force now: no window may be requested until {end}"
    return f":calendar: {name}\n    {start} to {end}: a window in it will be refused"


def _recent(board: HomeBoard) -> list[Block]:
    lines = [window_line(v, board.now) for v in board.recent[:RECENT_SHOWN]]
    body = context(_lines(lines, "windows", "`/sis-maint list recent`")) if lines else None
    return [DIVIDER, header("Recently ended"), body or context("None.")]


def _lines(lines: Sequence[str], what: str, command: str) -> str:
    """As many whole lines as fit in one section, and how many were left out."""
    kept: list[str] = []
    used = 0
    for n, line in enumerate(_clip(line) for line in lines):
        more = f"…and {len(lines) - n} more {what}: {command} shows them all."
        room_for_more = 0 if n == len(lines) - 1 else len(more) + 1
        if used + len(line) + room_for_more > SECTION_LIMIT:
            kept.append(more)
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def _clip(text: str) -> str:
    """A section's or context's text within Slack's limit."""
    return shorten(text, SECTION_LIMIT)
