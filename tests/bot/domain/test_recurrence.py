"""Expanding recurrence rules in wall time across daylight-saving changes."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.domain.recurrence import (
    Recurrence,
    describe_rule,
    first_occurrence,
    monthly,
    nominal_length,
    pin,
    weekly,
)

NY, CHI = "America/New_York", "America/Chicago"
HOUR = timedelta(hours=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_rules_are_rfc5545_text() -> None:
    assert weekly([5]) == "FREQ=WEEKLY;BYDAY=SA"
    assert weekly([3, 0, 3]) == "FREQ=WEEKLY;BYDAY=MO,TH"
    assert weekly(range(7)) == "FREQ=DAILY"
    assert monthly(1, 5) == "FREQ=MONTHLY;BYDAY=1SA"
    assert monthly(-1, 6) == "FREQ=MONTHLY;BYDAY=-1SU"
    with pytest.raises(ValueError, match="unsupported ordinal"):
        monthly(5, 5)


def test_a_weekly_wall_time_stays_put_across_fall_back_in_new_york() -> None:
    rule = Recurrence("FREQ=WEEKLY;BYDAY=SA", datetime(2026, 10, 24, 2, 30), NY, HOUR)
    found = rule.between(utc(2026, 10, 20), utc(2026, 11, 15))
    assert [o.on for o in found] == [
        date(2026, 10, 24),
        date(2026, 10, 31),
        date(2026, 11, 7),
        date(2026, 11, 14),
    ]
    assert [o.start for o in found] == [
        utc(2026, 10, 24, 6, 30),
        utc(2026, 10, 31, 6, 30),
        utc(2026, 11, 7, 7, 30),  # 02:30 EST
        utc(2026, 11, 14, 7, 30),
    ]
    assert all(o.end - o.start == HOUR and o.note is None for o in found)


def test_a_weekly_wall_time_stays_put_across_spring_forward_in_new_york() -> None:
    rule = Recurrence("FREQ=WEEKLY;BYDAY=SA", datetime(2027, 3, 6, 22, 0), NY, 2 * HOUR)
    starts = [o.start for o in rule.between(utc(2027, 3, 1), utc(2027, 3, 22))]
    assert starts == [utc(2027, 3, 7, 3, 0), utc(2027, 3, 14, 3, 0), utc(2027, 3, 21, 2, 0)]


def test_an_occurrence_in_the_spring_forward_gap_is_read_with_the_offset_before() -> None:
    rule = Recurrence("FREQ=WEEKLY;BYDAY=SU", datetime(2027, 3, 7, 2, 30), CHI, HOUR)
    before, gap, after = rule.between(utc(2027, 3, 1), utc(2027, 3, 22))
    assert before.start == utc(2027, 3, 7, 8, 30) and before.note is None
    assert gap.start == utc(2027, 3, 14, 8, 30)  # 03:30 CDT, the same instant as 02:30 CST
    assert gap.end == utc(2027, 3, 14, 9, 30)
    assert gap.note is not None
    assert "02:30 does not exist on Sun 14 Mar 2027 in America/Chicago" in gap.note
    assert "03:30 CDT" in gap.note
    assert after.start == utc(2027, 3, 21, 7, 30) and after.note is None


def test_a_wall_time_that_happens_twice_takes_the_first_and_says_so() -> None:
    rule = Recurrence("FREQ=WEEKLY;BYDAY=SU", datetime(2026, 10, 25, 1, 30), CHI, HOUR)
    fold = rule.on(date(2026, 11, 1))
    assert fold is not None and fold.start == utc(2026, 11, 1, 6, 30)  # 01:30 CDT
    assert fold.note is not None and "happens twice" in fold.note and "(CDT)" in fold.note


def test_a_wall_clock_end_follows_the_clock_over_midnight_and_dst() -> None:
    rule = Recurrence(
        "FREQ=WEEKLY;BYDAY=SA",
        datetime(2026, 10, 24, 22, 0),
        NY,
        nominal_length(time(22, 0), time(6, 0)),
        ends_wall=time(6, 0),
    )
    normal, fall_back = rule.between(utc(2026, 10, 24), utc(2026, 11, 2))
    assert normal.end - normal.start == 8 * HOUR
    assert fall_back.start == utc(2026, 11, 1, 2, 0)  # Sat 31 Oct 22:00 EDT
    assert fall_back.end == utc(2026, 11, 1, 11, 0)  # Sun 1 Nov 06:00 EST: nine real hours


def test_a_start_moved_past_its_wall_clock_end_keeps_its_length() -> None:
    rule = Recurrence(
        "FREQ=WEEKLY;BYDAY=SU",
        datetime(2027, 3, 7, 2, 30),
        NY,
        timedelta(minutes=30),
        ends_wall=time(3, 0),
    )
    gap = rule.on(date(2027, 3, 14))
    assert gap is not None
    assert (gap.start, gap.end) == (utc(2027, 3, 14, 7, 30), utc(2027, 3, 14, 8, 0))


def test_monthly_first_and_last_weekday() -> None:
    first = Recurrence("FREQ=MONTHLY;BYDAY=1SA", datetime(2027, 1, 2, 2, 30), NY, HOUR)
    assert [o.on for o in first.upcoming(utc(2027, 1, 1), 3)] == [
        date(2027, 1, 2),
        date(2027, 2, 6),
        date(2027, 3, 6),
    ]
    last = Recurrence("FREQ=MONTHLY;BYDAY=-1SA", datetime(2026, 12, 26, 2, 30), NY, HOUR)
    assert [o.on for o in last.upcoming(utc(2026, 12, 1), 3)] == [
        date(2026, 12, 26),
        date(2027, 1, 30),
        date(2027, 2, 27),
    ]


def test_on_upcoming_and_skips() -> None:
    rule = Recurrence("FREQ=WEEKLY;BYDAY=MO,TH", datetime(2026, 12, 7, 22, 0), NY, HOUR)
    assert rule.on(date(2026, 12, 10)) is not None
    assert rule.on(date(2026, 12, 9)) is None  # a Wednesday
    assert rule.on(date(2026, 11, 30)) is None  # a Monday before the first occurrence
    assert rule.next_after(utc(2026, 12, 8, 3, 0)) is not None
    assert rule.next_after(utc(2026, 12, 8, 3, 0)).on == date(2026, 12, 10)  # type: ignore[union-attr]
    skipping = replace(rule, skipped=frozenset({date(2026, 12, 10)}))
    days = [o.on for o in skipping.upcoming(utc(2026, 12, 7), 3)]
    assert days == [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 17)]
    assert skipping.next_after(utc(2026, 12, 8, 3, 0)).on == date(2026, 12, 14)  # type: ignore[union-attr]
    assert skipping.on(date(2026, 12, 10)) is None


def test_a_skipped_date_is_left_out_of_every_expansion_and_kept_by_an_edit() -> None:
    skipped = frozenset({date(2026, 12, 12)})
    rule = Recurrence("FREQ=WEEKLY;BYDAY=SA", datetime(2026, 12, 5, 2, 30), NY, HOUR, None, skipped)
    days = [o.on for o in rule.between(utc(2026, 12, 1), utc(2026, 12, 31))]
    assert days == [date(2026, 12, 5), date(2026, 12, 19), date(2026, 12, 26)]
    later = rule.with_times(time(13, 0), HOUR, None)
    assert later.skipped == skipped
    assert date(2026, 12, 12) not in [
        o.on for o in later.between(utc(2026, 12, 1), utc(2027, 1, 1))
    ]


def test_first_occurrence_is_the_next_after_now() -> None:
    # Saturday 10:00 in New York: today's 02:30 has passed, next Saturday's is first.
    now = utc(2026, 12, 5, 15, 0)
    assert first_occurrence("FREQ=WEEKLY;BYDAY=SA", time(2, 30), NY, now).on == date(2026, 12, 12)
    assert first_occurrence("FREQ=WEEKLY;BYDAY=SA", time(22, 0), NY, now).on == date(2026, 12, 5)


def test_overlapping_occurrences_are_found_including_on_a_dst_day() -> None:
    daily = Recurrence(
        "FREQ=DAILY", datetime(2027, 3, 10, 2, 30), NY, timedelta(hours=23, minutes=30)
    )
    problem = daily.overlap_problem(utc(2027, 3, 1))
    assert problem is not None and "the one on Sun 14 Mar 2027" in problem
    assert (
        Recurrence("FREQ=DAILY", datetime(2027, 3, 10, 2, 30), NY, 22 * HOUR).overlap_problem(
            utc(2027, 3, 1)
        )
        is None
    )


def test_descriptions() -> None:
    assert describe_rule("FREQ=WEEKLY;BYDAY=SA") == "every Saturday"
    assert describe_rule("FREQ=WEEKLY;BYDAY=MO,TH,FR") == "every Monday, Thursday and Friday"
    assert describe_rule("FREQ=DAILY") == "every day"
    assert describe_rule("FREQ=MONTHLY;BYDAY=-1SA") == "the last Saturday of every month"
    rule = Recurrence("FREQ=WEEKLY;BYDAY=SA", datetime(2026, 12, 5, 2, 30), NY, HOUR)
    assert rule.describe() == "every Saturday at 02:30 for 1h, America/New_York"
    timed = rule.with_times(time(22, 0), timedelta(minutes=90), time(23, 30))
    assert timed.describe() == "every Saturday 22:00-23:30, America/New_York"
    assert timed.dtstart == datetime(2026, 12, 5, 22, 0)


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Recurrence("FREQ=DAILY", datetime(2026, 12, 5, 2, 30, tzinfo=UTC), NY, HOUR)
    with pytest.raises(ValueError, match="not a recurrence rule"):
        Recurrence("FREQ=SOMETIMES", datetime(2026, 12, 5, 2, 30), NY, HOUR)
    with pytest.raises(ValueError, match="must last"):
        Recurrence("FREQ=DAILY", datetime(2026, 12, 5, 2, 30), NY, timedelta(0))


def test_pin_without_a_change_has_no_note() -> None:
    assert pin(date(2026, 12, 5), time(2, 30), NY) == (utc(2026, 12, 5, 7, 30), None)
