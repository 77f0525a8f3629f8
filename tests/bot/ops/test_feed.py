"""The calendar feed through the bot's HTTP server: the token, the environments, the updates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.config import Settings, parse_settings
from bot.errors import ConfigError
from bot.ops.feed import CalendarFeed
from bot.slack import ids
from tests.bot.test_cli import run_main
from tests.bot.test_series import series_card
from tests.harness import (
    APPROVER,
    CALENDAR_TOKEN,
    REQUESTER,
    Bot,
    ManualClock,
    running_bot,
    settings_document,
)

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
FEED = f"/calendar/{CALENDAR_TOKEN}.ics"
GRADES = {
    "name": "Grades due",
    "start": "2026-12-14 08:00",
    "end": "2026-12-14 18:00",
    "environments": ["staging"],
    "time_zone": "America/Chicago",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        yield running


def feed(bot: Bot, environment: str | None = None) -> dict[str, Event]:
    path = f"/calendar/{CALENDAR_TOKEN}" + (f"/{environment}" if environment else "") + ".ics"
    response = bot.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(event["SUMMARY"]).split(" ")[0]: event for event in calendar.events}


def test_a_scheduled_window_is_tentative_then_confirmed_under_the_same_uid(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h Banner patch")
    bot.wait_card(1)
    requested = feed(bot)["MW-1"]
    assert str(requested["STATUS"]) == "TENTATIVE"
    assert "prod" in str(requested["SUMMARY"]) and "Banner patch" in str(requested["SUMMARY"])
    # 22:00 in New York on 6 December is 03:00 UTC on the 7th.
    assert requested.start == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert requested.end == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)

    bot.click(APPROVER, ids.APPROVE, "1")
    approved = feed(bot)["MW-1"]
    assert str(approved["STATUS"]) == "CONFIRMED"
    assert approved["UID"] == requested["UID"]
    assert int(approved["SEQUENCE"]) > int(requested["SEQUENCE"])
    assert approved["LAST-MODIFIED"].dt >= requested["LAST-MODIFIED"].dt


def test_cancelling_keeps_the_event_as_cancelled_so_subscribers_drop_it(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h")
    bot.wait_card(1)
    before = feed(bot)["MW-1"]
    bot.command(REQUESTER, "cancel MW-1")
    after = feed(bot)["MW-1"]
    assert str(after["STATUS"]) == "CANCELLED" and after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_each_environment_has_its_own_feed_and_all_has_every_window(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h")
    bot.command(REQUESTER, "schedule staging 2026-12-07 22:00 1h")
    bot.command(REQUESTER, "schedule prod,staging 2026-12-08 22:00 1h")
    assert set(feed(bot)) == {"MW-1", "MW-2", "MW-3"}
    assert set(feed(bot, "prod")) == {"MW-1", "MW-3"}
    assert set(feed(bot, "production")) == {"MW-1", "MW-3"}  # an alias
    assert set(feed(bot, "staging")) == {"MW-2", "MW-3"}
    assert feed(bot, "sandbox") == {}
    assert bot.get(f"/calendar/{CALENDAR_TOKEN}/nowhere.ics").status_code == 404


def test_only_open_and_recent_windows_are_in_the_feed(bot: Bot, clock: ManualClock) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h old and cancelled")
    bot.command(REQUESTER, "cancel MW-1")
    bot.command(REQUESTER, "start staging 2h ended a while ago")
    bot.wait_card(2)
    bot.click(APPROVER, ids.APPROVE, "2")
    bot.command(REQUESTER, "end MW-2")
    assert set(feed(bot)) == {"MW-1", "MW-2"}

    clock.advance(timedelta(days=30))
    bot.command(REQUESTER, "schedule prod 2027-01-06 22:00 2h still to come")
    assert set(feed(bot)) == {"MW-3"}


def test_without_the_right_token_there_is_no_feed(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h")
    for path in (
        "/calendar/.ics",
        "/calendar/wrong-token-0123456789abcdef.ics",
        f"/calendar/{CALENDAR_TOKEN[:-1]}.ics",
        f"/calendar/{CALENDAR_TOKEN}x/prod.ics",
        f"/calendar/{CALENDAR_TOKEN}",
    ):
        response = bot.get(path)
        assert response.status_code == 404, path
        assert b"MW-1" not in response.content


def test_a_feed_without_a_configured_token_does_not_exist(bot: Bot) -> None:
    runtime = bot.runtime
    runtime.ops.feed = CalendarFeed(runtime.settings, runtime.sessions, ManualClock(T0), None)
    assert not runtime.ops.feed.enabled
    assert bot.get(f"/calendar/{CALENDAR_TOKEN}.ics").status_code == 404
    assert bot.get("/calendar/.ics").status_code == 404


def test_an_unchanged_feed_answers_not_modified_and_head_has_no_body(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h")
    path = f"/calendar/{CALENDAR_TOKEN}.ics"
    first = bot.get(path)
    etag = first.headers["etag"]
    assert bot.get(path).headers["etag"] == etag  # the same content, byte for byte
    assert bot.get(path, headers={"If-None-Match": etag}).status_code == 304
    head = bot.http.head(bot.url.removesuffix("/slack/events") + path)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(first.content)
    bot.command(REQUESTER, "cancel MW-1")
    assert bot.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_the_feed_token_must_be_set_and_hard_to_guess() -> None:
    doc = settings_document("http://127.0.0.1:1")
    assert parse_settings(doc).calendar.token({}) is None  # no token_env: no feed
    doc["calendar"] = {"token_env": "FEED_TOKEN"}
    calendar = parse_settings(doc).calendar
    with pytest.raises(ConfigError, match="set FEED_TOKEN"):
        calendar.token({})
    for weak in ("short", "has spaces in it, long enough", "x" * 19):
        with pytest.raises(ConfigError, match="at least 20"):
            calendar.token({"FEED_TOKEN": weak})
    token = calendar.token({"FEED_TOKEN": CALENDAR_TOKEN})
    assert token is not None and token.get_secret_value() == CALENDAR_TOKEN


def test_check_config_names_a_missing_feed_token(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        Path("config.example.toml")
        .read_text()
        .replace(
            '# token_env = "SIS_MAINT_CALENDAR_TOKEN"', 'token_env = "SIS_MAINT_CALENDAR_TOKEN"'
        )
    )
    env = {
        "SIS_MAINT_CONFIG": str(config),
        "COURSEDOG_PROD_EMAIL": "a@b.edu",
        "COURSEDOG_PROD_PASSWORD": "pw-1234",
        "COURSEDOG_STAGING_EMAIL": "a@b.edu",
        "COURSEDOG_STAGING_PASSWORD": "pw-1234",
    }
    result = run_main("check-config", env=env)
    assert (
        result.returncode == 2
        and "calendar.token_env: set SIS_MAINT_CALENDAR_TOKEN" in result.stderr
    )
    env["SIS_MAINT_CALENDAR_TOKEN"] = CALENDAR_TOKEN
    assert run_main("check-config", env=env).returncode == 0


def test_future_occurrences_of_series_and_blackout_periods_are_in_the_feed(
    database_url: str, clock: ManualClock
) -> None:
    with running_bot(database_url, clock=clock, settings_factory=with_periods(GRADES)) as bot:
        bot.command(REQUESTER, "schedule prod every sat 02:30 1h Banner weekly")
        assert not [e for e in feed(bot).values() if "S-1" in str(e["SUMMARY"])]  # not approved
        bot.click(APPROVER, ids.SERIES_APPROVE, "1", series_card(bot, 1))
        events = Calendar.from_ical(bot.get(f"/calendar/{CALENDAR_TOKEN}.ics").content).events
        occurrences = sorted(
            (e for e in events if "S-1" in str(e["SUMMARY"])), key=lambda e: e.start
        )
        # Saturdays at 02:30 in New York, before and after the March change, each its own event.
        local = [e.start.astimezone(ZoneInfo("America/New_York")) for e in occurrences]
        assert len(local) > 10 and {(t.weekday(), t.hour, t.minute) for t in local} == {(5, 2, 30)}
        assert {t.utcoffset() for t in local} == {timedelta(hours=-5), timedelta(hours=-4)}
        assert len({str(e["UID"]) for e in occurrences}) == len(occurrences)
        [grades] = [e for e in events if "Grades due" in str(e["SUMMARY"])]
        assert grades.start == datetime(2026, 12, 14, 14, 0, tzinfo=UTC)  # 08:00 in Chicago
        assert "blackout" in str(grades["CATEGORIES"].to_ical()).lower()
        staging = Calendar.from_ical(bot.get(f"/calendar/{CALENDAR_TOKEN}/staging.ics").content)
        assert any("Grades due" in str(e["SUMMARY"]) for e in staging.events)
        prod = Calendar.from_ical(bot.get(f"/calendar/{CALENDAR_TOKEN}/prod.ics").content)
        assert not any("Grades due" in str(e["SUMMARY"]) for e in prod.events)


def with_periods(*periods: dict[str, Any]) -> Callable[[str], Settings]:
    """Settings with these blackout periods in the configuration file."""

    def settings_for(base_url: str) -> Settings:
        doc = settings_document(base_url)
        doc["blackouts"] = list(periods)
        return parse_settings(doc)

    return settings_for


def stamps(events: list[Event], text: str) -> set[tuple[datetime, datetime]]:
    """DTSTAMP and LAST-MODIFIED of the events whose summary holds ``text``."""
    found = {(e["DTSTAMP"].dt, e["LAST-MODIFIED"].dt) for e in events if text in str(e["SUMMARY"])}
    assert found, f"no event about {text}"
    return found


def test_blackouts_and_occurrences_carry_when_they_changed_so_an_unchanged_feed_is_not_modified(
    database_url: str, clock: ManualClock
) -> None:
    with running_bot(database_url, clock=clock, settings_factory=with_periods(GRADES)) as bot:
        bot.command(REQUESTER, "schedule prod every sat 02:30 1h Banner weekly")
        clock.advance(HOUR)
        bot.click(APPROVER, ids.SERIES_APPROVE, "1", series_card(bot, 1))
        assert bot.settle()
        approved = clock.now()
        clock.advance(HOUR)
        bot.command(APPROVER, "blackout add prod 2027-01-10 until 2027-01-11 Census")
        added = clock.now()
        clock.advance(HOUR)
        first = bot.get(FEED)
        clock.advance(HOUR)  # nothing changes meanwhile: the same feed, byte for byte
        second = bot.get(FEED)
        assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
        assert bot.get(FEED, headers={"If-None-Match": first.headers["etag"]}).status_code == 304

        events = Calendar.from_ical(second.content).events
        assert stamps(events, "Census") == {(added, added)}
        assert stamps(events, "Grades due") == {(T0, T0)}  # as the bot started with it
        assert stamps(events, "S-1") == {(approved, approved)}

        clock.advance(HOUR)
        bot.command(REQUESTER, "series edit S-1 03:00 1h")
        edited = clock.now()
        clock.advance(HOUR)
        events = Calendar.from_ical(bot.get(FEED).content).events
        assert stamps(events, "S-1") == {(edited, edited)}
        assert stamps(events, "Census") == {(added, added)}

        bot.command(APPROVER, "blackout remove B-1")
        events = Calendar.from_ical(bot.get(FEED).content).events
        assert not [e for e in events if "Census" in str(e["SUMMARY"])]


def test_a_period_of_the_configuration_file_changes_when_the_bot_starts_with_it_changed(
    database_url: str, clock: ManualClock
) -> None:
    registration = {"name": "Registration", "start": "2027-01-11", "end": "2027-01-15"}
    with running_bot(
        database_url, clock=clock, settings_factory=with_periods(GRADES, registration)
    ) as bot:
        assert stamps(Calendar.from_ical(bot.get(FEED).content).events, "Grades") == {(T0, T0)}
        clock.advance(HOUR)
        bot.restart()  # the same file: nothing changed
        events = Calendar.from_ical(bot.get(FEED).content).events
        assert stamps(events, "Grades") == stamps(events, "Registration") == {(T0, T0)}
    clock.advance(HOUR)
    longer = {**GRADES, "end": "2026-12-14 20:00"}
    with running_bot(database_url, clock=clock, settings_factory=with_periods(longer)) as bot:
        events = Calendar.from_ical(bot.get(FEED).content).events
        assert stamps(events, "Grades") == {(T0 + 2 * HOUR, T0 + 2 * HOUR)}
        assert not [e for e in events if "Registration" in str(e["SUMMARY"])]
    clock.advance(HOUR)
    with running_bot(
        database_url, clock=clock, settings_factory=with_periods(longer, registration)
    ) as bot:  # back in the file: new again
        events = Calendar.from_ical(bot.get(FEED).content).events
        assert stamps(events, "Grades") == {(T0 + 2 * HOUR, T0 + 2 * HOUR)}
        assert stamps(events, "Registration") == {(T0 + 3 * HOUR, T0 + 3 * HOUR)}
