"""The calendar feed's content, read back with the calendar library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.domain.states import WindowState
from bot.ops.calendar import EntryStatus, FeedWindow, build_calendar, window_entry

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
LABELS = {"prod": "Production", "staging": "Staging"}


def window(**overrides: object) -> FeedWindow:
    values: dict[str, object] = {
        "id": 7,
        "state": WindowState.APPROVED,
        "environments": ("prod", "staging"),
        "reason": "Banner patch",
        "ticket": "CS-42",
        "requester_id": "U0REQUEST1",
        "requested_at": T0,
        "starts_at": T0 + timedelta(hours=6),
        "ends_at": T0 + timedelta(hours=8),
        "ended_at": None,
        "duration": timedelta(hours=2),
        "version": 3,
        "last_modified": T0 + timedelta(minutes=5),
    }
    values.update(overrides)
    return FeedWindow(**values)  # type: ignore[arg-type]


def parse(*windows: FeedWindow) -> Calendar:
    entries = [window_entry(w, labels=LABELS, uid_domain="example.edu") for w in windows]
    text = build_calendar(
        entries, name="sis-maint: test", uid="feed@x", refresh=timedelta(minutes=15)
    )
    return Calendar.from_ical(text)


def test_a_window_becomes_one_event_with_its_number_environments_and_reason() -> None:
    calendar = parse(window())
    assert str(calendar["VERSION"]) == "2.0" and "sis-maint" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "sis-maint: test"
    (event,) = calendar.events
    assert str(event["UID"]) == "mw-7@example.edu"
    summary = str(event["SUMMARY"])
    assert summary.startswith("MW-7 prod, staging: merges off") and "Banner patch" in summary
    assert event.start == T0 + timedelta(hours=6) and event.end == T0 + timedelta(hours=8)
    assert event.start.tzinfo is not None and event.start.utcoffset() == timedelta(0)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 2
    assert event["LAST-MODIFIED"].dt == T0 + timedelta(minutes=5)
    assert event["DTSTAMP"].dt == T0 + timedelta(minutes=5)
    description = str(event["DESCRIPTION"])
    assert "prod (Production), staging (Staging)" in description and "CS-42" in description
    assert str(event["TRANSP"]) == "TRANSPARENT"


@pytest.mark.parametrize(
    ("state", "status", "words"),
    [
        (WindowState.REQUESTED, EntryStatus.TENTATIVE, "awaiting approval"),
        (WindowState.APPROVED, EntryStatus.CONFIRMED, "merges off"),
        (WindowState.ACTIVE, EntryStatus.CONFIRMED, "merges off"),
        (WindowState.FAILED, EntryStatus.CONFIRMED, "needs a person"),
        (WindowState.ENDED, EntryStatus.CONFIRMED, "ended"),
        (WindowState.DENIED, EntryStatus.CANCELLED, "denied"),
        (WindowState.CANCELLED, EntryStatus.CANCELLED, "cancelled"),
        (WindowState.EXPIRED, EntryStatus.CANCELLED, "expired"),
    ],
)
def test_each_state_has_its_status(state: WindowState, status: EntryStatus, words: str) -> None:
    (event,) = parse(window(state=state, ended_at=T0 + timedelta(hours=7))).events
    assert str(event["STATUS"]) == status.value
    assert words in str(event["SUMMARY"])


def test_a_request_to_start_on_approval_is_shown_from_when_it_was_asked() -> None:
    pending = window(state=WindowState.REQUESTED, starts_at=None, ends_at=None)
    (event,) = parse(pending).events
    assert event.start == T0 and event.end == T0 + timedelta(hours=2)
    assert "as soon as an approver agrees" in str(event["DESCRIPTION"])


def test_an_ended_window_shows_when_it_really_ended() -> None:
    ended = window(state=WindowState.ENDED, ended_at=T0 + timedelta(hours=7))
    (event,) = parse(ended).events
    assert event.end == T0 + timedelta(hours=7)
    at_once = window(state=WindowState.ENDED, ended_at=T0 + timedelta(hours=6))
    (event,) = parse(at_once).events
    assert event.end > event.start


def test_the_uid_stays_and_the_sequence_rises_as_the_window_changes() -> None:
    before = parse(window(state=WindowState.REQUESTED, version=1)).events[0]
    after = parse(window(state=WindowState.APPROVED, version=2)).events[0]
    assert before["UID"] == after["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_the_feed_asks_clients_to_refresh_and_several_windows_are_separate_events() -> None:
    text = build_calendar(
        [window_entry(window(id=n), labels=LABELS, uid_domain="example.edu") for n in (1, 2, 3)],
        name="all",
        uid="feed-all@example.edu",
        refresh=timedelta(minutes=30),
    )
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT30M" in text
    calendar = Calendar.from_ical(text)
    assert sorted(str(e["UID"]) for e in calendar.events) == [
        "mw-1@example.edu",
        "mw-2@example.edu",
        "mw-3@example.edu",
    ]
    assert str(calendar["UID"]) == "feed-all@example.edu"
