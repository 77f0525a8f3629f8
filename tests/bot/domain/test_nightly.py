from datetime import UTC, datetime, time

import pytest

from bot.domain.nightly import NightlyMerge

NIGHTLY = NightlyMerge(time(1, 30), time(3, 0), "America/New_York")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "covered"),
    [
        (utc(5, 3), utc(5, 7), True),  # 22:00-02:00 EST covers 01:30
        (utc(5, 7), utc(5, 9), True),  # 02:00-04:00 EST starts inside it
        (utc(6, 4), utc(6, 6, 30), False),  # 23:00-01:30 EST ends as the merge starts
        (utc(6, 8), utc(6, 9), False),  # 03:00-04:00 EST, after it
        (utc(6, 7, 59), utc(6, 9), True),  # 02:59 EST, inside
        (utc(1, 12), utc(4, 12), True),  # days long
    ],
)
def test_covered_by(start: datetime, end: datetime, covered: bool) -> None:
    assert NIGHTLY.covered_by(start, end) is covered


def test_a_span_across_midnight() -> None:
    late = NightlyMerge(time(23, 30), time(0, 30), "UTC")
    assert late.covered_by(utc(6, 0), utc(6, 0, 15))
    assert not late.covered_by(utc(6, 1), utc(6, 2))
