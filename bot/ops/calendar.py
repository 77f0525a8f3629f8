"""The calendar feed's content: maintenance windows as RFC 5545 events.

Everything the feed shows becomes a ``FeedEntry``: one function per kind of thing turns it
into entries (``window_entry`` for windows, ``upcoming_entry`` for future occurrences of
series and for blackout periods), and ``build_calendar`` is the only code that knows the
calendar library.
Pure functions: no session, no clock, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from icalendar import STATUS, TRANSP, Calendar, Event

from bot.domain.actors import api_token_of
from bot.domain.states import WindowState
from bot.domain.upcoming import ItemKind, UpcomingItem

PRODID = "-//sis-maint//maintenance windows//EN"
# RFC 5545 wants DTEND after DTSTART; a window ended the moment it started still shows.
SHORTEST = timedelta(minutes=1)

S = WindowState


class EntryStatus(StrEnum):
    """An event's STATUS."""

    TENTATIVE = "TENTATIVE"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class FeedEntry:
    """One event of the feed, whatever it stands for."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    status: EntryStatus
    sequence: int
    last_modified: datetime
    description: str = ""
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedWindow:
    """What the feed needs of one window, read from the ledger."""

    id: int
    state: WindowState
    environments: tuple[str, ...]
    reason: str
    ticket: str | None
    requester_id: str
    requested_at: datetime
    starts_at: datetime | None
    ends_at: datetime | None
    ended_at: datetime | None
    duration: timedelta
    version: int
    last_modified: datetime


STATUS_OF_STATE = {
    S.REQUESTED: EntryStatus.TENTATIVE,
    S.APPROVED: EntryStatus.CONFIRMED,
    S.ACTIVE: EntryStatus.CONFIRMED,
    S.FAILED: EntryStatus.CONFIRMED,
    S.ENDED: EntryStatus.CONFIRMED,
    S.DENIED: EntryStatus.CANCELLED,
    S.CANCELLED: EntryStatus.CANCELLED,
    S.EXPIRED: EntryStatus.CANCELLED,
}

WHAT = {
    S.REQUESTED: "merges off (awaiting approval)",
    S.APPROVED: "merges off",
    S.ACTIVE: "merges off",
    S.FAILED: "merges off (needs a person)",
    S.ENDED: "merges off (ended)",
    S.DENIED: "denied",
    S.CANCELLED: "cancelled",
    S.EXPIRED: "expired (not approved in time)",
}


def window_span(window: FeedWindow) -> tuple[datetime, datetime]:
    """When the window holds (or held, or would have held) merges off.

    A request to start "as soon as approved" has no start yet: it is shown from the moment
    it was asked for, for its duration. An ended window shows when it really ended.
    """
    start = window.starts_at or window.requested_at
    end = window.ends_at or start + window.duration
    if window.state == S.ENDED and window.ended_at is not None:
        end = window.ended_at
    return start, max(end, start + SHORTEST)


def window_entry(window: FeedWindow, *, labels: Mapping[str, str], uid_domain: str) -> FeedEntry:
    """A window as an event: same UID for its whole life, SEQUENCE rising with each change."""
    start, end = window_span(window)
    envs = ", ".join(window.environments)
    summary = f"MW-{window.id} {envs}: {WHAT[window.state]}"
    if window.reason:
        summary += f" - {window.reason}"
    lines = [
        "Merge schedules off on: "
        + ", ".join(f"{env} ({labels.get(env, env)})" for env in window.environments),
        f"State: {window.state}",
    ]
    if window.reason:
        lines.append(f"Reason: {window.reason}")
    if window.ticket:
        lines.append(f"Ticket: {window.ticket}")
    if window.starts_at is None:
        lines.append("Starts as soon as an approver agrees.")
    token = api_token_of(window.requester_id)
    who = f"API token {token}" if token else f"Slack user {window.requester_id}"
    lines.append(f"Requested by {who}.")
    return FeedEntry(
        uid=f"mw-{window.id}@{uid_domain}",
        start=start,
        end=end,
        summary=summary,
        status=STATUS_OF_STATE[window.state],
        # The ledger's version starts at 1 and rises with every change of the row.
        sequence=max(0, window.version - 1),
        last_modified=max(window.last_modified, window.requested_at),
        description="\n".join(lines),
        categories=window.environments,
    )


def build_calendar(
    entries: Iterable[FeedEntry],
    *,
    name: str,
    uid: str,
    refresh: timedelta,
) -> bytes:
    """The whole feed as iCalendar text (UTC times, so no VTIMEZONE is needed)."""
    calendar = Calendar.new(
        prodid=PRODID,
        name=name,
        description="SIS maintenance windows: Coursedog merges switched off",
        uid=uid,
    )
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", refresh)
    for entry in entries:
        calendar.add_component(_event(entry))
    return bytes(calendar.to_ical())


def _event(entry: FeedEntry) -> Event:
    return Event.new(
        uid=entry.uid,
        start=entry.start,
        end=entry.end,
        # Without METHOD, DTSTAMP is when the information last changed (RFC 5545 3.8.7.2).
        stamp=entry.last_modified,
        last_modified=entry.last_modified,
        sequence=entry.sequence,
        status=STATUS(entry.status.value),
        summary=entry.summary,
        description=entry.description or None,
        categories=list(entry.categories),
        # Maintenance does not make anyone busy.
        transparency=TRANSP.TRANSPARENT,
    )


def upcoming_entry(item: UpcomingItem, *, uid_domain: str, fallback: datetime) -> FeedEntry:
    """A future occurrence of an approved series, or a blackout period, as an event.

    ``fallback`` stands in for LAST-MODIFIED when the ledger has no change time for it.
    """
    blackout = item.kind is ItemKind.BLACKOUT
    return FeedEntry(
        uid=f"{item.uid}@{uid_domain}",
        start=item.start,
        end=max(item.end, item.start + SHORTEST),
        summary=item.summary,
        status=EntryStatus.CONFIRMED,
        sequence=item.sequence,
        last_modified=item.changed_at or fallback,
        description=item.description,
        categories=("blackout", *item.environments) if blackout else item.environments,
    )
