from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.when import ResolvedTime, WhenSpec, parse_when, resolve_wall_time
from bot.errors import InputError

CHICAGO = "America/Chicago"
LONDON = "Europe/London"
CHI = ZoneInfo(CHICAGO)
# Saturday 5 December 2026, 10:00 in Chicago.
SAT_MORNING = datetime(2026, 12, 5, 10, 0, tzinfo=CHI)
# Saturday 5 December 2026, 21:30 in Chicago, given in UTC (already Sunday there).
SAT_NIGHT_UTC = datetime(2026, 12, 6, 3, 30, tzinfo=UTC)
SAY_WHEN = (
    "Say when: `schedule prod 2026-12-05 22:00 4h`, `schedule prod sat 02:30 1h` "
    "or `schedule prod tomorrow 22:00 until 06:00`."
)


def local(resolved: ResolvedTime) -> str:
    """The resolved instant as a wall time in its own zone."""
    return f"{resolved.at.astimezone(ZoneInfo(resolved.zone)):%Y-%m-%d %H:%M}"


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def when(text: str, now: datetime = SAT_MORNING, zone: str = CHICAGO) -> WhenSpec:
    return parse_when(text.split(), now=now, zone=zone)


# --- resolve_wall_time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "wall", "zone", "expected", "note"),
    [
        (date(2026, 12, 5), time(22, 0), CHICAGO, utc(2026, 12, 6, 4, 0), None),
        (date(2026, 7, 1), time(22, 0), CHICAGO, utc(2026, 7, 2, 3, 0), None),
        (date(2026, 3, 8), time(1, 59), CHICAGO, utc(2026, 3, 8, 7, 59), None),
        (date(2026, 3, 8), time(3, 0), CHICAGO, utc(2026, 3, 8, 8, 0), None),
        (date(2026, 11, 1), time(0, 59), CHICAGO, utc(2026, 11, 1, 5, 59), None),
        (date(2026, 11, 1), time(1, 0), CHICAGO, utc(2026, 11, 1, 6, 0), "(CDT, UTC-05:00)"),
        (date(2026, 11, 1), time(1, 30), CHICAGO, utc(2026, 11, 1, 6, 30), "(CDT, UTC-05:00)"),
        (date(2026, 11, 1), time(1, 59), CHICAGO, utc(2026, 11, 1, 6, 59), "(CDT, UTC-05:00)"),
        (date(2026, 11, 1), time(2, 0), CHICAGO, utc(2026, 11, 1, 8, 0), None),
        (date(2026, 3, 29), time(0, 59), LONDON, utc(2026, 3, 29, 0, 59), None),
        (date(2026, 3, 29), time(2, 0), LONDON, utc(2026, 3, 29, 1, 0), None),
        (date(2026, 10, 25), time(0, 59), LONDON, utc(2026, 10, 24, 23, 59), None),
        (date(2026, 10, 25), time(1, 30), LONDON, utc(2026, 10, 25, 0, 30), "(BST, UTC+01:00)"),
        (date(2026, 10, 25), time(2, 0), LONDON, utc(2026, 10, 25, 2, 0), None),
        (
            date(2026, 4, 5),
            time(1, 45),
            "Australia/Lord_Howe",
            utc(2026, 4, 4, 14, 45),
            "UTC+11:00",
        ),
        (date(2026, 3, 8), time(2, 30), "UTC", utc(2026, 3, 8, 2, 30), None),
        (date(2026, 3, 8), time(2, 30), "Asia/Kolkata", utc(2026, 3, 7, 21, 0), None),
    ],
)
def test_resolve_wall_time(
    day: date, wall: time, zone: str, expected: datetime, note: str | None
) -> None:
    resolved = resolve_wall_time(day, wall, zone)
    assert resolved.at == expected
    assert resolved.at.utcoffset() == timedelta(0)
    assert resolved.zone == zone
    if note is None:
        assert resolved.note is None
    else:
        assert resolved.note is not None
        assert "happens twice" in resolved.note
        assert note in resolved.note


def test_fold_note_reads_well() -> None:
    resolved = resolve_wall_time(date(2026, 11, 1), time(1, 30), CHICAGO)
    assert resolved.note == (
        "01:30 happens twice on Sun 1 Nov 2026 in America/Chicago; "
        "taking the first one (CDT, UTC-05:00)."
    )


@pytest.mark.parametrize(
    ("day", "wall", "zone", "message"),
    [
        (
            date(2026, 3, 8),
            time(2, 30),
            CHICAGO,
            "02:30 does not exist on Sun 8 Mar 2026 in America/Chicago: "
            "clocks jump from 02:00 to 03:00.",
        ),
        (date(2026, 3, 8), time(2, 0), CHICAGO, "02:00 does not exist on Sun 8 Mar 2026"),
        (date(2026, 3, 8), time(2, 59), CHICAGO, "clocks jump from 02:00 to 03:00."),
        (
            date(2026, 3, 29),
            time(1, 30),
            LONDON,
            "01:30 does not exist on Sun 29 Mar 2026 in Europe/London: "
            "clocks jump from 01:00 to 02:00.",
        ),
        (date(2026, 3, 29), time(1, 0), LONDON, "clocks jump from 01:00 to 02:00."),
        (date(2026, 10, 4), time(2, 15), "Australia/Lord_Howe", "jump from 02:00 to 02:30."),
        (
            date(2011, 12, 30),
            time(12, 0),
            "Pacific/Apia",
            "jump from 00:00 on Fri 30 Dec 2011 to 00:00 on Sat 31 Dec 2011.",
        ),
    ],
)
def test_wall_times_in_a_gap_are_refused(day: date, wall: time, zone: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        resolve_wall_time(day, wall, zone)
    assert message in str(caught.value)


@pytest.mark.parametrize("zone", ["Mars/Base", "", "../etc", "/etc/passwd", "America/"])
def test_unknown_zone_is_refused(zone: str) -> None:
    with pytest.raises(InputError, match="is not a time zone I know"):
        resolve_wall_time(date(2026, 12, 5), time(22, 0), zone)


@pytest.mark.parametrize(
    ("zone", "spring", "fall", "gap", "fold"),
    [
        (
            CHICAGO,
            date(2026, 3, 8),
            date(2026, 11, 1),
            {"02:00", "02:15", "02:30", "02:45"},
            {"01:00", "01:15", "01:30", "01:45"},
        ),
        (
            LONDON,
            date(2026, 3, 29),
            date(2026, 10, 25),
            {"01:00", "01:15", "01:30", "01:45"},
            {"01:00", "01:15", "01:30", "01:45"},
        ),
    ],
)
def test_every_quarter_hour_on_transition_days_round_trips(
    zone: str, spring: date, fall: date, gap: set[str], fold: set[str]
) -> None:
    tz = ZoneInfo(zone)
    refused: dict[date, set[str]] = {spring: set(), fall: set()}
    doubled: dict[date, set[str]] = {spring: set(), fall: set()}
    for day in (spring, fall):
        for minutes in range(0, 24 * 60, 15):
            wall = time(*divmod(minutes, 60))
            words = [day.isoformat(), f"{wall:%H:%M}", "1h"]
            try:
                resolved = resolve_wall_time(day, wall, zone)
            except InputError as exc:
                assert "does not exist" in str(exc)
                refused[day].add(f"{wall:%H:%M}")
                with pytest.raises(InputError, match="does not exist"):
                    parse_when(words, now=SAT_MORNING, zone=zone)
                continue
            back = resolved.at.astimezone(tz)
            assert (back.date(), back.time()) == (day, wall)
            assert back.fold == 0
            if resolved.note is not None:
                doubled[day].add(f"{wall:%H:%M}")
            assert parse_when(words, now=SAT_MORNING, zone=zone).start == resolved
    assert refused == {spring: gap, fall: set()}
    assert doubled == {spring: set(), fall: fold}


# --- parse_when: what people type ----------------------------------------------------------

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "start", "length", "rest"),
    [
        ("2026-12-05 22:00 4h", "2026-12-05 22:00", 4 * H, ()),
        ("2026-12-05 22:00 4h Banner patch", "2026-12-05 22:00", 4 * H, ("Banner", "patch")),
        ("2026-12-24 22:00 1d2h", "2026-12-24 22:00", 26 * H, ()),
        ("today 22:00 90m", "2026-12-05 22:00", 1.5 * H, ()),
        ("TODAY 7am 1h", "2026-12-05 07:00", H, ()),
        ("tomorrow 2:30 1h", "2026-12-06 02:30", H, ()),
        ("Tomorrow 02:30 45m", "2026-12-06 02:30", 0.75 * H, ()),
        ("tomorrow 0:05 1h", "2026-12-06 00:05", H, ()),
        ("sat 02:30 1h", "2026-12-12 02:30", H, ()),
        ("sat 23:00 1h", "2026-12-05 23:00", H, ()),
        ("SAT 10:00 1h", "2026-12-12 10:00", H, ()),
        ("saturday 10:01 1h", "2026-12-05 10:01", H, ()),
        ("sun 06:00 1h", "2026-12-06 06:00", H, ()),
        ("sunday 06:00 1h", "2026-12-06 06:00", H, ()),
        ("mon 12am 1h", "2026-12-07 00:00", H, ()),
        ("tue 7AM 1h", "2026-12-08 07:00", H, ()),
        ("wed 12pm 1h", "2026-12-09 12:00", H, ()),
        ("thursday 10:30pm 1h", "2026-12-10 22:30", H, ()),
        ("fri 22:00 1h", "2026-12-11 22:00", H, ()),
        ("friday 12:30am 1h", "2026-12-11 00:30", H, ()),
        ("tomorrow 22:00 until 06:00", "2026-12-06 22:00", "2026-12-07 06:00", ()),
        ("today 22:00 UNTIL 6AM", "2026-12-05 22:00", "2026-12-06 06:00", ()),
        ("today 22:00 until 23:30", "2026-12-05 22:00", "2026-12-05 23:30", ()),
        ("today 22:00 until 22:00", "2026-12-05 22:00", "2026-12-06 22:00", ()),
        ("today 22:00 until 12am", "2026-12-05 22:00", "2026-12-06 00:00", ()),
        ("today 22:00 until sun 06:00", "2026-12-05 22:00", "2026-12-06 06:00", ()),
        ("today 22:00 until tomorrow 6am go", "2026-12-05 22:00", "2026-12-06 06:00", ("go",)),
        ("today 22:00 until 2026-12-07 06:00", "2026-12-05 22:00", "2026-12-07 06:00", ()),
        ("today 22:00 until mon 01:00", "2026-12-05 22:00", "2026-12-07 01:00", ()),
        ("sat 23:00 until sat 01:00", "2026-12-05 23:00", "2026-12-12 01:00", ()),
        ("sat 23:00 until sat 23:30", "2026-12-05 23:00", "2026-12-05 23:30", ()),
        (
            "today 22:00 2h until Banner is back",
            "2026-12-05 22:00",
            2 * H,
            ("until", "Banner", "is", "back"),
        ),
    ],
)
def test_parse_when(text: str, start: str, length: timedelta | str, rest: tuple[str, ...]) -> None:
    spec = when(text)
    assert spec.start.zone == CHICAGO
    assert local(spec.start) == start
    assert spec.start.note is None
    assert spec.rest == rest
    if isinstance(length, timedelta):
        assert spec.duration == length
        assert spec.end is None
        assert spec.end_at == spec.start.at + length
    else:
        assert spec.duration is None
        assert spec.end is not None
        assert spec.end.zone == CHICAGO
        assert local(spec.end) == length
        assert spec.end_at == spec.end.at


def test_rest_is_left_untouched() -> None:
    words = ["today", "22:00", "2h", "Banner", "", "PATCH", "<@U1>"]
    spec = parse_when(words, now=SAT_MORNING, zone=CHICAGO)
    assert spec.rest == ("Banner", "", "PATCH", "<@U1>")


def test_start_and_end_are_aware_utc() -> None:
    spec = when("tomorrow 22:00 until 06:00")
    assert spec.start.at.tzinfo is UTC
    assert spec.end is not None
    assert spec.end.at.tzinfo is UTC
    assert spec.end.at - spec.start.at == 8 * H


@pytest.mark.parametrize(
    ("text", "start", "zone", "end"),
    [
        ("2026-12-05 22:00 Europe/London 4h", "2026-12-05 22:00", LONDON, None),
        ("2026-12-05 22:00 europe/london 4h", "2026-12-05 22:00", LONDON, None),
        ("2026-12-05 22:00 UTC 4h", "2026-12-05 22:00", "UTC", None),
        ("2026-12-05 22:00 utc 4h", "2026-12-05 22:00", "UTC", None),
        ("2026-12-05 22:00 Etc/UTC 4h", "2026-12-05 22:00", "Etc/UTC", None),
        ("2026-12-05 22:00 america/new_york 4h", "2026-12-05 22:00", "America/New_York", None),
        ("today 22:00 Europe/London until 06:00", "2026-12-05 22:00", LONDON, "2026-12-06 06:00"),
        ("sat 11:00 Europe/London 1h", "2026-12-12 11:00", LONDON, None),
        ("sat 17:00 Europe/London 1h", "2026-12-05 17:00", LONDON, None),
        # 10:00 in Chicago is already 01:00 on Sunday in Tokyo: "today" is read there.
        ("today 22:00 Asia/Tokyo 1h", "2026-12-06 22:00", "Asia/Tokyo", None),
        ("sat 22:00 Asia/Tokyo 1h", "2026-12-12 22:00", "Asia/Tokyo", None),
    ],
)
def test_explicit_zone_applies_to_start_and_end(
    text: str, start: str, zone: str, end: str | None
) -> None:
    spec = when(text)
    assert (spec.start.zone, local(spec.start)) == (zone, start)
    if end is None:
        assert spec.end is None
    else:
        assert spec.end is not None
        assert (spec.end.zone, local(spec.end)) == (zone, end)


def test_explicit_zone_changes_the_instant() -> None:
    chicago = when("2026-12-05 22:00 4h").start.at
    london = when("2026-12-05 22:00 Europe/London 4h").start.at
    assert chicago - london == 6 * H


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("today 22:00 1h", "2026-12-05 22:00"),
        ("today 21:00 1h", "2026-12-05 21:00"),
        ("tomorrow 01:00 1h", "2026-12-06 01:00"),
        ("sat 23:00 1h", "2026-12-05 23:00"),
        ("sat 21:00 1h", "2026-12-12 21:00"),
        ("sun 02:00 1h", "2026-12-06 02:00"),
    ],
)
def test_days_are_counted_in_the_zone_not_in_utc(text: str, start: str) -> None:
    assert local(when(text, now=SAT_NIGHT_UTC).start) == start


@pytest.mark.parametrize(
    ("now", "text", "start", "end", "note_on"),
    [
        # Saturday before spring-forward: Sunday 02:30 does not exist, 03:00 does.
        (datetime(2026, 3, 7, 10, tzinfo=CHI), "sun 03:00 1h", utc(2026, 3, 8, 8, 0), None, ""),
        (datetime(2026, 3, 7, 10, tzinfo=CHI), "sun 01:59 1h", utc(2026, 3, 8, 7, 59), None, ""),
        (
            datetime(2026, 3, 7, 10, tzinfo=CHI),
            "today 22:00 until 06:00",
            utc(2026, 3, 8, 4, 0),
            utc(2026, 3, 8, 11, 0),
            "",
        ),
        # Sunday after the jump: this morning's 02:30 is behind us, so next Sunday.
        (datetime(2026, 3, 8, 4, tzinfo=CHI), "sun 02:30 1h", utc(2026, 3, 15, 7, 30), None, ""),
        # Saturday before fall-back: 01:30 happens twice; the first (CDT) is taken.
        (
            datetime(2026, 10, 31, 10, tzinfo=CHI),
            "sun 01:30 1h",
            utc(2026, 11, 1, 6, 30),
            None,
            "start",
        ),
        (
            datetime(2026, 10, 31, 10, tzinfo=CHI),
            "today 23:00 until 01:30",
            utc(2026, 11, 1, 4, 0),
            utc(2026, 11, 1, 6, 30),
            "end",
        ),
        (
            datetime(2026, 10, 31, 10, tzinfo=CHI),
            "2026-11-01 00:30 until 2026-11-01 01:45",
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 1, 6, 45),
            "end",
        ),
        # Now is the second 01:20 (CST): both 01:30 and 01:50 CDT are already past.
        (
            datetime(2026, 11, 1, 1, 20, fold=1, tzinfo=CHI),
            "sun 01:30 1h",
            utc(2026, 11, 8, 7, 30),
            None,
            "",
        ),
        (
            datetime(2026, 11, 1, 1, 20, fold=1, tzinfo=CHI),
            "sun 01:50 1h",
            utc(2026, 11, 8, 7, 50),
            None,
            "",
        ),
    ],
)
def test_daylight_saving_in_parse_when(
    now: datetime, text: str, start: datetime, end: datetime | None, note_on: str
) -> None:
    spec = when(text, now=now)
    assert spec.start.at == start
    assert (spec.end.at if spec.end else None) == end
    assert (spec.start.note is not None) == (note_on == "start")
    assert ((spec.end.note if spec.end else None) is not None) == (note_on == "end")


@pytest.mark.parametrize(
    ("now", "text", "message"),
    [
        (
            datetime(2026, 3, 7, 10, tzinfo=CHI),
            "sun 02:30 1h",
            "02:30 does not exist on Sun 8 Mar 2026 in America/Chicago",
        ),
        (datetime(2026, 3, 7, 10, tzinfo=CHI), "2026-03-08 02:00 1h", "02:00 does not exist"),
        (datetime(2026, 3, 7, 10, tzinfo=CHI), "today 23:00 until 02:30", "02:30 does not exist"),
        (
            datetime(2026, 3, 7, 10, tzinfo=CHI),
            "today 23:00 until sun 2:15am",
            "02:15 does not exist",
        ),
        (
            datetime(2026, 3, 28, 10, tzinfo=ZoneInfo(LONDON)),
            "sun 01:30 Europe/London 1h",
            "clocks jump from 01:00 to 02:00",
        ),
    ],
)
def test_daylight_saving_gaps_in_parse_when(now: datetime, text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        when(text, now=now)
    assert message in str(caught.value)


# --- parse_when: what it refuses ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", SAY_WHEN),
        ("4h", SAY_WHEN),
        ("22:00 4h", "Say the day before the time, e.g. `schedule prod today 22:00 4h`"),
        ("7am 4h", "Say the day before the time"),
        ("frob 22:00 4h", "`frob` is not a day."),
        ("sats 02:30 1h", "`sats` is not a day."),
        ("next 22:00 1h", "`next` is not a day."),
        (
            "12/05/2026 22:00 4h",
            "`12/05/2026` is not a date I can read; write dates as `YYYY-MM-DD`",
        ),
        ("2026-12-5 22:00 4h", "write dates as `YYYY-MM-DD`"),
        ("2026-02-30 22:00 4h", "`2026-02-30` is not a date."),
        ("2026-13-01 22:00 4h", "`2026-13-01` is not a date."),
        ("2026-02-30", "`2026-02-30` is not a date."),
        ("sat", "Say what time on `sat`, e.g. `schedule prod sat 22:00 4h`."),
        ("sat 24:00 1h", "`24:00` is not a time: hours go from 00 to 23"),
        ("sat 25:00 1h", "`25:00` is not a time: hours go from 00 to 23"),
        ("sat 7:60 1h", "`7:60` is not a time: minutes go from 00 to 59."),
        ("sat 7:60pm 1h", "`7:60pm` is not a time: minutes go from 00 to 59."),
        ("sat 13pm 1h", "`13pm` is not a time: with am or pm the hour goes from 1 to 12"),
        ("sat 13pm 1h", "Without pm it is `13:00`."),
        ("sat 0am 1h", "`0am` is not a time: with am or pm the hour goes from 1 to 12"),
        ("sat 7:5 1h", "`7:5` is not a time I can read."),
        ("sat 22 1h", "`22` is not a time I can read."),
        ("sat noon 1h", "`noon` is not a time. Use `22:00`, `2:30`, `7am` or `10:30pm`."),
        ("sat 4h", "`4h` is not a time."),
        ("sat 22:00", "Say how long after `sat 22:00`: a duration such as `4h`"),
        ("sat 22:00 Europe/London", "Say how long after `sat 22:00 Europe/London`"),
        ("sat 22:00 Mars/Base 1h", "`Mars/Base` is not a time zone I know."),
        ("sat 22:00 america/chicag 1h", "`america/chicag` is not a time zone I know."),
        ("sat 22:00 CST 1h", "`CST` is not a time zone I can use."),
        ("sat 22:00 gmt 1h", "`gmt` is not a time zone I can use."),
        ("sat 22:00 soon", "`soon` is not a duration or an end."),
        ("sat 22:00 2", "`2` is not a duration or an end."),
        ("sat 22:00 0m", "at least one minute"),
        ("sat 22:00 until", "Say when it ends after `until`, e.g. `until 06:00`"),
        ("sat 22:00 until sun", "Say what time on `sun`, e.g. `until sun 06:00`."),
        ("sat 22:00 until later", "`later` is not a time. After `until`, say a time"),
        ("sat 22:00 until 24:00", "`24:00` is not a time: hours go"),
        ("sat 22:00 until sun 7:60", "`7:60` is not a time: minutes go"),
        ("sat 22:00 until 2026-02-30 01:00", "`2026-02-30` is not a date."),
        (
            "today 22:00 until today 06:00",
            "`until today 06:00` is not after the start, Sat 5 Dec 2026 22:00 CST.",
        ),
        ("today 22:00 until 2026-12-05 22:00", "is not after the start"),
        ("tomorrow 22:00 until today 23:00", "is not after the start"),
        ("today 22:00 4h until 06:00", "not both"),
        ("today 22:00 4h until sun 06:00", "not both"),
        ("today 22:00 until 06:00 2h", "not both"),
        ("today 22:00 4h Europe/London", "Put the time zone right after the start time"),
        ("today 22:00 until 06:00 Europe/London", "Put the time zone right after the start"),
    ],
)
def test_bad_input_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        when(text)
    assert message in str(caught.value)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when(["today", "22:00", "1h"], now=datetime(2026, 12, 5, 10), zone=CHICAGO)


def test_a_when_spec_has_an_end_or_a_duration_not_both() -> None:
    start = resolve_wall_time(date(2026, 12, 5), time(22), CHICAGO)
    with pytest.raises(ValueError, match="exactly one"):
        WhenSpec(start=start, end=None, duration=None, rest=())
    with pytest.raises(ValueError, match="exactly one"):
        WhenSpec(start=start, end=start, duration=H, rest=())
