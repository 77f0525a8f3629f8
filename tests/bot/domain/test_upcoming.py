"""The pure list of future series occurrences and blackout periods (for the calendar feed)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.blackouts import Blackout
from bot.domain.recurrence import Recurrence
from bot.domain.upcoming import ItemKind, SeriesPlan, upcoming_items

NY = "America/New_York"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


WEEKLY = SeriesPlan(
    id=1,
    environments=("prod",),
    recurrence=Recurrence(
        "FREQ=WEEKLY;BYDAY=SA",
        datetime(2026, 10, 24, 2, 30),
        NY,
        timedelta(hours=1),
        skipped=frozenset({date(2026, 11, 7)}),
    ),
    reason="Banner weekly",
    ticket="CHG-9",
    materialised=frozenset({date(2026, 10, 31)}),
    version=3,
)
REGISTRATION = Blackout(
    "config:Registration", "Registration", utc(2026, 11, 9, 5), utc(2026, 11, 14, 5), NY
)
STAGING_ONLY = Blackout("B-2", "Grades", utc(2026, 11, 20), utc(2026, 11, 21), NY, ("staging",))


def test_occurrences_and_periods_between_two_instants() -> None:
    items = upcoming_items(
        [WEEKLY], [REGISTRATION, STAGING_ONLY], utc(2026, 10, 25), utc(2026, 11, 22)
    )
    assert [(i.kind, i.uid) for i in items] == [
        (ItemKind.BLACKOUT, "blackout-config-registration"),
        (ItemKind.OCCURRENCE, "s-1-20261114"),  # 31 Oct has its window; 7 Nov is skipped
        (ItemKind.BLACKOUT, "blackout-b-2"),
        (ItemKind.OCCURRENCE, "s-1-20261121"),
    ]
    occurrence = items[1]
    assert (occurrence.start, occurrence.end) == (
        utc(2026, 11, 14, 7, 30),
        utc(2026, 11, 14, 8, 30),
    )
    assert occurrence.summary == "S-1 prod: merges off - Banner weekly"
    assert "every Saturday at 02:30 for 1h" in occurrence.description
    assert "CHG-9" in occurrence.description and occurrence.sequence == 2
    assert items[0].summary == "Blackout: Registration" and items[0].environments == ()


def test_filter_by_environment_and_include_materialised() -> None:
    prod = upcoming_items(
        [WEEKLY],
        [STAGING_ONLY],
        utc(2026, 10, 25),
        utc(2026, 11, 1),
        environment="prod",
        include_materialised=True,
    )
    assert [i.uid for i in prod] == ["s-1-20261031"]
    staging = upcoming_items(
        [WEEKLY], [STAGING_ONLY], utc(2026, 11, 15), utc(2026, 11, 30), environment="staging"
    )
    assert [i.uid for i in staging] == ["blackout-b-2"]


def test_the_end_is_exclusive_and_instants_must_be_aware() -> None:
    assert upcoming_items([WEEKLY], [], utc(2026, 11, 10), utc(2026, 11, 14, 7, 30)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        upcoming_items([WEEKLY], [], datetime(2026, 11, 10), utc(2026, 11, 20))
