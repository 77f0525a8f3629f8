"""Scheduling across daylight-saving changes in America/Chicago."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import parse_settings
from bot.slack import ids
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot, settings_document


def chicago(base_url: str) -> Any:
    doc = settings_document(base_url)
    doc["defaults"] = {"time_zone": "America/Chicago"}
    return parse_settings(doc)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 6, 18, 0, tzinfo=UTC))  # Friday noon in Chicago


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock, settings_factory=chicago) as running:
        yield running


def reply(bot: Bot, text: str) -> str:
    response = bot.command(REQUESTER, text)
    assert response.status_code == 200
    return str(response.json()["text"])


def test_a_wall_time_skipped_by_spring_forward_is_refused(bot: Bot) -> None:
    text = reply(bot, "schedule prod 2026-03-08 02:30 1h")
    assert "02:30 does not exist on Sun 8 Mar 2026 in America/Chicago" in text
    assert bot.cards() == []


def test_a_window_across_spring_forward_lasts_real_time(bot: Bot, clock: ManualClock) -> None:
    text = reply(bot, "schedule prod 2026-03-08 01:00 until 04:00 Banner")
    # 01:00 CST to 04:00 CDT is two hours of real time.
    assert "Sun 8 Mar 2026 01:00 CST (UTC-06:00)" in text
    assert "Sun 8 Mar 2026 04:00 CDT (UTC-05:00)" in text
    assert "(2h)" in text
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    clock.advance(timedelta(hours=37))  # 07:00 UTC on the 8th
    bot.tick()
    assert bot.sim.school("state_u_prod").nightly is False
    clock.advance(timedelta(hours=2))
    bot.tick()
    assert bot.sim.school("state_u_prod").nightly is True


def test_an_ambiguous_fall_back_time_takes_the_earlier_and_says_so(
    bot: Bot, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=230))  # late October
    text = reply(bot, "schedule prod 2026-11-01 01:30 1h")
    assert "happens twice" in text and "CDT, UTC-05:00" in text
    assert "Sun 1 Nov 2026 01:30 CDT (UTC-05:00)" in text


def test_a_window_across_fall_back_ends_after_its_elapsed_duration(
    bot: Bot, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=230))
    text = reply(bot, "schedule prod 2026-11-01 00:30 3h")
    # Three real hours from 00:30 CDT end at 02:30 CST.
    assert "Sun 1 Nov 2026 02:30 CST (UTC-06:00)" in text


def test_explicit_zone_overrides_the_environment_zone(bot: Bot) -> None:
    text = reply(bot, "schedule prod 2026-03-09 22:00 America/New_York 1h")
    assert "Mon 9 Mar 2026 22:00 EDT (UTC-04:00)" in text
