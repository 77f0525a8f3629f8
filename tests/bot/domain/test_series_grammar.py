"""Reading series, blackout and --override commands."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.domain.blackout_grammar import (
    BlackoutAddCommand,
    BlackoutListCommand,
    BlackoutRemoveCommand,
)
from bot.domain.commands import parse, split_override
from bot.domain.grammar import ScheduleCommand, StartCommand
from bot.domain.series_grammar import (
    SeriesEditCommand,
    SeriesEndCommand,
    SeriesListCommand,
    SeriesRequestCommand,
    SeriesSkipCommand,
    is_recurring,
)
from bot.errors import InputError

ENVS = {"prod": "prod", "production": "prod", "staging": "staging"}
NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # Saturday 10:00 in New York
ZONES = {"prod": "America/New_York", "staging": "America/Chicago"}


def read(text: str) -> object:
    return parse(text, ENVS, now=NOW, zone_of=ZONES.__getitem__, default_zone="America/New_York")


def test_weekly_series() -> None:
    parsed = read("schedule production every sat 02:30 1h Banner weekly")
    assert isinstance(parsed, SeriesRequestCommand)
    assert parsed.environments == ("prod",) and parsed.reason == "Banner weekly"
    rule = parsed.recurrence
    assert (rule.rule, rule.zone, rule.duration) == (
        "FREQ=WEEKLY;BYDAY=SA",
        "America/New_York",
        timedelta(hours=1),
    )
    assert rule.dtstart == datetime(2026, 12, 12, 2, 30)  # the first occurrence, next Saturday
    assert parsed.first.start == datetime(2026, 12, 12, 7, 30, tzinfo=UTC)
    assert parsed.first.end == datetime(2026, 12, 12, 8, 30, tzinfo=UTC)


def test_several_days_with_a_wall_clock_end_and_an_explicit_zone() -> None:
    parsed = read("schedule prod,staging every Mon,THU 22:00 America/Denver until 23:30")
    assert isinstance(parsed, SeriesRequestCommand)
    rule = parsed.recurrence
    assert rule.rule == "FREQ=WEEKLY;BYDAY=MO,TH" and rule.zone == "America/Denver"
    assert rule.ends_wall == time(23, 30) and rule.duration == timedelta(minutes=90)
    assert parsed.first.on == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("schedule prod first sat 02:30 1d", "FREQ=MONTHLY;BYDAY=1SA"),
        ("schedule prod 2nd tue 02:30 1d", "FREQ=MONTHLY;BYDAY=2TU"),
        ("schedule prod last sunday 02:30 1d", "FREQ=MONTHLY;BYDAY=-1SU"),
        ("schedule prod every day 02:30 1h", "FREQ=DAILY"),
        ("schedule prod every weekday 06:00 30m", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ],
)
def test_monthly_and_daily_rules(text: str, rule: str) -> None:
    parsed = read(text)
    assert isinstance(parsed, SeriesRequestCommand) and parsed.recurrence.rule == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schedule prod every", "Say which days after `every`"),
        ("schedule prod every ,", "Say which days after `every`"),
        ("schedule prod every sunn 02:30 1h", "`sunn` is not a weekday"),
        ("schedule prod every sat,funday 02:30 1h", "`funday` is not a weekday"),
        ("schedule prod first 02:30 1h", "`02:30` is not a weekday"),
        ("schedule prod first", "Say which weekday after `first`"),
        ("schedule prod 5th sat 02:30 1h", "Not every month has a 5th one"),
        ("schedule prod sixth sat 02:30 1h", "Not every month has a sixth one"),
        ("schedule prod next sat 02:30 1h", "`next` is not an ordinal I know"),
        ("schedule prod every sat", "Say what time"),
        ("schedule prod every sat 2:3 1h", "`2:3` is not a time I can read"),
        ("schedule prod every sat 13pm 1h", "with am or pm the hour goes from 1 to 12"),
        ("schedule prod every sat 02:30 Mars/Olympus 1h", "`Mars/Olympus` is not a time zone"),
        ("schedule prod every sat 02:30 soon", "`soon` is not a duration or an end"),
        ("schedule prod every sat 02:30 until", "Say when it ends after `until`"),
        ("schedule prod every sat 02:30 until 2027-01-01", "`until` takes a time only"),
        ("schedule prod every sat 02:30 until 04:00 2h", "not both"),
        ("schedule prod every sat 02:30 0m", "at least one minute"),
        ("schedule prod every sat 02:30 1h " + "x" * 501, "keep it under 500"),
        ("series list S-1", "`series list` takes nothing more"),
        ("series skip", "Say which occurrence"),
        ("series skip S-1", "Say which occurrence"),
        ("series skip S-1 2026-02-30", "`2026-02-30` is not a date"),
        ("series skip S-1 12/12/2026", "`12/12/2026` is not a date: write it as YYYY-MM-DD"),
        ("series edit S-1 03:00", "Say how long each occurrence lasts"),
        ("series edit MW-1 03:00 1h", "Say which series and its new times"),
        ("series end S-1 now", "Say which series to end"),
        ("blackout list all", "`blackout list` takes nothing more"),
        ("blackout remove", "Say which period"),
        ("blackout remove 3", "Say which period"),
        ("blackout add 2027-01-11 until 2027-01-15 " + "x" * 121, "keep it under 120"),
        ("blackout add 2027-01-11 until", "Say the end as a date"),
        ("blackout add 2027-1-11 until 2027-01-15 x", "`2027-1-11` is not a date"),
        ("cancel MW-1 --override why not", "goes at the end of `start`, `schedule`"),
        ("start prod 1h \u2014override", "Say why after `--override`"),
    ],
)
def test_bad_input_is_refused_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        read(text)


def test_series_subcommands() -> None:
    assert read("series") == SeriesListCommand()
    assert read("series LIST") == SeriesListCommand()
    assert read("series skip s-2 2026-12-26") == SeriesSkipCommand(
        series_id=2, day=date(2026, 12, 26)
    )
    assert read("series skip MW-7") == SeriesSkipCommand(window_id=7)
    assert read("series edit S-1 22:00 until 06:00") == SeriesEditCommand(
        1, time(22, 0), timedelta(hours=8), time(6, 0)
    )
    assert read("series end S-3") == SeriesEndCommand(3)
    assert read("end s3") == SeriesEndCommand(3)


def test_override_is_split_off_the_end() -> None:
    assert split_override(["start", "prod", "1h"]) == (["start", "prod", "1h"], None)
    words, reason = split_override(
        ["start", "prod", "1h", "fix", "--OVERRIDE", "registrar", "agreed"]
    )
    assert (words, reason) == (["start", "prod", "1h", "fix"], "registrar agreed")
    start = read("start prod 1h fix \u2014override vendor window")
    assert isinstance(start, StartCommand)
    assert (start.reason, start.override) == ("fix", "vendor window")
    schedule = read("schedule prod 2026-12-06 22:00 1h --override ok")
    assert isinstance(schedule, ScheduleCommand) and schedule.override == "ok"
    edit = read("series edit S-1 03:00 1h --override INC-4")
    assert isinstance(edit, SeriesEditCommand) and edit.override == "INC-4"
    series = read("schedule prod every sat 02:30 1h --override INC-5")
    assert isinstance(series, SeriesRequestCommand) and series.override == "INC-5"


def test_blackout_commands() -> None:
    assert read("blackout") == BlackoutListCommand()
    assert read("blackouts list") == BlackoutListCommand()
    assert read("blackout remove b-12") == BlackoutRemoveCommand(12)
    whole_days = read("blackout add 2027-01-11 until 2027-01-15 Registration opening")
    assert whole_days == BlackoutAddCommand(
        "Registration opening",
        datetime(2027, 1, 11, 5, 0, tzinfo=UTC),
        datetime(2027, 1, 16, 5, 0, tzinfo=UTC),  # the end day is included
        "America/New_York",
    )
    timed = read("blackout add staging 2027-05-10 08:00 until 2027-05-10 18:00 Grades due")
    assert timed == BlackoutAddCommand(
        "Grades due",
        datetime(2027, 5, 10, 13, 0, tzinfo=UTC),  # 08:00 CDT, staging's zone
        datetime(2027, 5, 10, 23, 0, tzinfo=UTC),
        "America/Chicago",
        ("staging",),
    )
    zoned = read("blackout add 2027-05-10 until 2027-05-10 UTC Census")
    assert isinstance(zoned, BlackoutAddCommand) and zoned.zone == "UTC"
    assert zoned.ends_at - zoned.starts_at == timedelta(days=1)


def test_what_counts_as_a_recurring_schedule() -> None:
    assert is_recurring(["every", "sat"]) and is_recurring(["first", "sat"])
    assert is_recurring(["5th", "sat"]) and is_recurring(["penultimate", "sat"])
    assert not is_recurring(["sat", "02:30"]) and not is_recurring(["2026-12-05", "22:00"])
    assert not is_recurring(["tomorrow", "sat"]) and not is_recurring([])
    one_off = read("schedule prod sat 02:30 1h")
    assert isinstance(one_off, ScheduleCommand)
