from datetime import timedelta

import pytest

from bot.domain.durations import format_duration, parse_duration
from bot.domain.grammar import EndCommand, HelpCommand, StartCommand, parse_command, parse_window_id
from bot.errors import InputError, UnknownCommand

ENVS = {"prod": "prod", "production": "prod", "staging": "staging", "stage": "staging"}


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("45m", 45),
        ("2h", 120),
        ("1h30m", 90),
        ("1d", 1440),
        ("90m", 90),
        ("2H", 120),
        ("1d2h", 1560),
        ("30min", 30),
    ],
)
def test_durations_people_type(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "text", ["", "0m", "0h0m", "2", "h", "2 hours", "-1h", "1.5h", "1m2h", "1w"]
)
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_duration(text)


def test_format_duration_round_trips() -> None:
    assert format_duration(parse_duration("1d2h5m")) == "1d 2h 5m"
    assert format_duration(timedelta(minutes=90)) == "1h 30m"


def test_start_with_several_environments_aliases_and_reason() -> None:
    parsed = parse_command("START production,stage,prod 90m Banner  patch", ENVS)
    assert parsed == StartCommand(("prod", "staging"), timedelta(minutes=90), "Banner patch")


def test_start_without_reason() -> None:
    assert parse_command("start prod 2h", ENVS) == StartCommand(("prod",), timedelta(hours=2), "")


def test_end_by_number_or_environment() -> None:
    assert parse_command("end MW-12", ENVS) == EndCommand(window_id=12)
    assert parse_command("end mw12", ENVS) == EndCommand(window_id=12)
    assert parse_command("end production", ENVS) == EndCommand(environment="prod")


@pytest.mark.parametrize("text", ["help", "HELP", "?"])
def test_help(text: str) -> None:
    assert parse_command(text, ENVS) == HelpCommand()


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"no environment called `qa`. Known: `prod`, `staging`"):
        parse_command("start qa 2h", ENVS)


def test_unknown_subcommand_is_its_own_error() -> None:
    with pytest.raises(UnknownCommand):
        parse_command("launch prod 2h", ENVS)


@pytest.mark.parametrize(
    "text", ["end prod,staging", "end", "end MW-1 MW-2", "start", "start ,", "   "]
)
def test_malformed_commands_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_command(text, ENVS)


def test_overlong_reason_is_refused() -> None:
    with pytest.raises(InputError, match="keep it under 500"):
        parse_command("start prod 2h " + "x" * 501, ENVS)


def test_window_ids() -> None:
    assert parse_window_id("MW-7") == 7
    assert parse_window_id("prod") is None
    assert parse_window_id("MW-") is None
