"""Whatever is typed after /sis-maint, the grammar answers with a command or a specific message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.domain.grammar import (
    MAX_HISTORY,
    MAX_REASON,
    CancelCommand,
    EndCommand,
    ExtendCommand,
    HelpCommand,
    HistoryCommand,
    ListCommand,
    ScheduleCommand,
    StartCommand,
    StatusCommand,
    parse_command,
)
from bot.errors import InputError, UnknownCommand
from tests.fuzzing import FUZZ, assert_specific

ENVIRONMENTS = {
    "prod": "prod",
    "production": "prod",
    "staging": "staging",
    "stage": "staging",
    "sandbox": "sandbox",
}
ZONES = {"prod": "America/New_York", "staging": "Australia/Lord_Howe", "sandbox": "UTC"}
VOCABULARY = (
    # commands, in several spellings
    *("start", "schedule", "end", "extend", "cancel", "status", "list", "history", "help"),
    *("START", "Schedule", "?", "-h", "--help", "stop", "approve", "payload"),
    # environments and lists of them
    *("prod", "PROD", "production", "staging", "stage", "sandbox", "nope", "prod,staging"),
    *("prod,,staging", ",", ",,", "prod,nope", "staging,prod,prod"),
    # windows
    *("MW-1", "mw-12", "MW12", "MW-0", "MW-999999999", "MW-1234567890", "MW--1", "MW-", "MW-1x"),
    # durations
    *("2h", "45m", "1h30m", "1d", "0m", "0h0m", "999d", "999d9999h99999m", "90min", "2H"),
    *("h", "m", "d", "-1h", "1.5h", "1h 30m", "1w", "00001h"),
    # days, times and zones
    *("today", "tomorrow", "sat", "Saturday", "sun", "mon", "2026-12-05", "2026-02-29"),
    *("2028-02-29", "2026-02-30", "0001-01-01", "9999-12-31", "2026-13-01", "2026-1-5"),
    *("22:00", "00:00", "24:00", "23:60", "2:30", "02:30", "7am", "12am", "12pm", "13pm"),
    *("10:30pm", "0am", "25:00", "2:3", "noon", "until", "UNTIL", "America/Chicago", "utc"),
    *("Europe/London", "Australia/Lord_Howe", "Etc/GMT+14", "Not/AZone", "../etc", "EST"),
    # list kinds, counts, odd text
    *("active", "upcoming", "recent", "all", "1", "10", "50", "51", "0", "-5", "00"),
    *("🙂", "\u200b", "`", "``", "*bold*", "<@U0123>", "<!channel>", "\\", "%s", "{}", "None"),
)
NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)

words = st.one_of(
    st.sampled_from(VOCABULARY),
    st.text(min_size=1, max_size=12).filter(lambda w: w.strip() != ""),
    st.builds("{}d{}h{}m".format, *(st.integers(0, 10**6) for _ in range(3))),
    st.builds("{}h".format, st.integers(-5, 10**9)),
    st.builds(
        "{}:{:02d}{}".format,
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(["", "am", "pm"]),
    ),
    st.dates().map(str),
    st.builds("MW-{}".format, st.integers(-1, 10**12)),
    st.just("x" * 700),
)


def pick(*options: str) -> st.SearchStrategy[str]:
    return st.sampled_from(options)


envs = st.one_of(pick("prod", "staging", "prod,staging", "production", "nope", ",", "PROD"), words)
durations = st.one_of(pick("2h", "45m", "1h30m", "1d", "0m", "3d", "999d", "0h0m", "90"), words)
days = st.one_of(pick("today", "tomorrow", "sat", "sun", "2026-12-06", "2026-03-08"), words)
times = st.one_of(pick("22:00", "02:30", "00:00", "7am", "12pm", "24:00", "1:60"), words)
zones = pick("", "America/Chicago", "UTC", "Europe/London", "EST", "Not/AZone")
ends = st.one_of(
    durations,
    st.builds("until {} {}".format, days, times),
    st.builds("until {}".format, times),
    st.builds("{} until {}".format, durations, times),
)
reasons = st.one_of(pick("", "Banner patch", "until 06:00", "2h", "America/Chicago"), words)
ids = st.one_of(pick("MW-1", "mw-2", "MW12", "MW-0", "prod", "nope"), words)
structured = st.one_of(
    st.builds("start {} {} {}".format, envs, durations, reasons),
    st.builds("schedule {} {} {} {} {} {}".format, envs, days, times, zones, ends, reasons),
    st.builds("{} {}".format, pick("end", "cancel", "status"), ids),
    st.builds("extend {} {}".format, ids, durations),
    st.builds("history {} {}".format, envs, pick("", "1", "50", "51", "0", "007")),
    st.builds("list {}".format, pick("", "active", "upcoming", "recent", "all", "active recent")),
)
separators = st.sampled_from([" ", "  ", "\t", "\n", " \u00a0 ", "\u3000"])
commands = st.one_of(
    structured,
    st.builds(lambda ws, sep: sep.join(ws), st.lists(words, min_size=0, max_size=14), separators),
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


def check(text: str, now: datetime) -> None:
    """The property: a command that makes sense, or an InputError that says what is wrong."""
    try:
        parsed = parse_command(text, ENVIRONMENTS, now=now, zone_of=ZONES.__getitem__)
    except UnknownCommand as exc:
        assert_specific(exc, text)
        assert "is not a command I know" in str(exc)
        return
    except InputError as exc:
        assert_specific(exc, text)
        return
    match parsed:
        case StartCommand():
            assert parsed.duration > timedelta(0) and len(parsed.reason) <= MAX_REASON
            assert set(parsed.environments) <= set(ZONES)
        case ScheduleCommand():
            assert parsed.ends_at > parsed.starts_at  # the past and the horizon: the service
            assert parsed.starts_at.tzinfo is not None and len(parsed.reason) <= MAX_REASON
        case EndCommand():
            assert (parsed.window_id is None) != (parsed.environment is None)
        case ExtendCommand():
            assert parsed.window_id >= 0 and parsed.by > timedelta(0)  # MW-0: "no such window"
        case CancelCommand():
            assert parsed.window_id >= 0
        case StatusCommand():
            assert set(parsed.environments) <= set(ZONES)
            assert len(set(parsed.environments)) == len(parsed.environments)
        case HistoryCommand():
            assert parsed.environment in (None, *ZONES)
            assert 1 <= parsed.limit <= MAX_HISTORY
        case ListCommand() | HelpCommand():
            pass


@settings(max_examples=FUZZ.grammar_text, deadline=None, database=None)
@given(text=st.text(max_size=200))
@example(text="")
@example(text="   ")
@example(text="start")
@example(text="schedule")
def test_any_text_gets_a_command_or_a_specific_message(text: str) -> None:
    check(text, NOW)


@settings(
    max_examples=FUZZ.grammar_words,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=commands, now=instants)
@example(text="start prod " + "x" * 700, now=NOW)
@example(text="start " + "x" * 700 + " 2h", now=NOW)
@example(text="schedule prod 2026-03-08 02:30 1h", now=datetime(2026, 3, 1, tzinfo=UTC))
@example(text="schedule prod 9999-12-31 23:59 1d", now=NOW)
@example(text="schedule prod 0001-01-01 00:00 1h", now=NOW)
@example(
    text="schedule sandbox tomorrow 23:59 until 00:00",
    now=datetime(2090, 12, 31, 23, 0, tzinfo=UTC),
)
@example(text="extend MW-1 999d9999h99999m", now=NOW)
@example(text="history prod " + "9" * 5000, now=NOW)
@example(text="history ²", now=NOW)
def test_grammar_shaped_words_get_a_command_or_a_specific_message(text: str, now: datetime) -> None:
    check(text, now)
