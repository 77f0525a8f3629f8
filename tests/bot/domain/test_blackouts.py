"""Blackout periods as spans: whole days, half-open overlap, environments."""

from datetime import UTC, date, datetime, timedelta

from bot.domain.blackouts import Blackout, overlapping, parse_blackout_id, span_of

NY = "America/New_York"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def period(key: str, start: datetime, end: datetime, *envs: str) -> Blackout:
    return Blackout(key, key.title(), start, end, NY, envs)


def test_dates_cover_whole_days_in_the_zone_and_include_the_end_day() -> None:
    assert span_of(date(2027, 1, 11), date(2027, 1, 15), NY) == (
        utc(2027, 1, 11, 5, 0),
        utc(2027, 1, 16, 5, 0),
    )
    # Across spring forward the period is an hour shorter in real time.
    start, end = span_of(date(2027, 3, 14), date(2027, 3, 14), NY)
    assert end - start == timedelta(hours=23)
    assert span_of(datetime(2027, 1, 11, 8, 0), datetime(2027, 1, 11, 18, 0), NY) == (
        utc(2027, 1, 11, 13, 0),
        utc(2027, 1, 11, 23, 0),
    )


def test_overlap_is_half_open_and_follows_environments() -> None:
    everywhere = period("b-1", utc(2027, 1, 11, 5), utc(2027, 1, 16, 5))
    staging = period("b-2", utc(2027, 1, 12), utc(2027, 1, 13), "staging")
    assert everywhere.overlaps(["prod"], utc(2027, 1, 10), utc(2027, 1, 11, 6))
    assert not everywhere.overlaps(
        ["prod"], utc(2027, 1, 10), utc(2027, 1, 11, 5)
    )  # ends as it begins
    assert not everywhere.overlaps(["prod"], utc(2027, 1, 16, 5), utc(2027, 1, 17))
    assert not staging.overlaps(["prod"], utc(2027, 1, 12), utc(2027, 1, 13))
    assert staging.overlaps(["prod", "staging"], utc(2027, 1, 12), utc(2027, 1, 13))
    hits = overlapping([staging, everywhere], ["staging"], utc(2027, 1, 12), utc(2027, 1, 12, 1))
    assert [h.key for h in hits] == ["b-1", "b-2"]  # earliest first
    assert everywhere.where() == "all environments" and staging.where() == "staging"
    assert "B-1 (Mon 11 Jan 2027 00:00 EST (UTC-05:00) to Sat 16 Jan 2027" in everywhere.describe()


def test_period_numbers() -> None:
    assert parse_blackout_id("B-3") == 3 and parse_blackout_id("b12") == 12
    assert parse_blackout_id("3") is None and parse_blackout_id("B-") is None
    assert parse_blackout_id("MW-3") is None
    assert period("config:Reg", utc(2027, 1, 1), utc(2027, 1, 2)).from_config
