"""What buttons carry: each value is read back as written, cards of any age still work, and
a malformed value is refused with the error the person is shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import InputError
from bot.slack.button_values import (
    ButtonValueError,
    StepButton,
    WindowButton,
    WindowEnvironmentButton,
)

KNOWN = {"prod": "prod", "staging": "staging"}


@pytest.mark.parametrize(
    "button",
    [WindowButton(7), WindowButton(999_999_999, 1_780_000_000), WindowButton(1, 0)],
)
def test_a_window_button_reads_back_as_written(button: WindowButton) -> None:
    assert WindowButton.decode(button.encode()) == button


def test_a_window_button_shows_the_end_in_unix_seconds() -> None:
    end = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    assert WindowButton.showing(7, end).encode() == f"7@{int(end.timestamp())}"
    assert WindowButton.showing(7).encode() == "7"


def test_cards_posted_before_keep_working() -> None:
    assert WindowButton.decode("12") == WindowButton(12, None)
    assert WindowButton.decode("12@1700000000") == WindowButton(12, 1_700_000_000)
    assert WindowEnvironmentButton.decode("12|prod", KNOWN) == WindowEnvironmentButton(12, "prod")
    assert StepButton.decode("12|prod|off|nightly", KNOWN) == StepButton(
        12, "prod", "off", "nightly"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "does not name a window"),
        ("x", "does not name a window"),
        ("0", "does not name a window"),
        ("1000000000", "does not name a window"),
        ("²", "does not name a window"),
        ("7@", "end time that is not one"),
        ("7@x", "end time that is not one"),
        ("7@99999999999", "end time that is not one"),
        ("7@5@6", "end time that is not one"),
        ("@5", "does not name a window"),
    ],
)
def test_a_malformed_window_value_is_refused(raw: str, message: str) -> None:
    with pytest.raises(ButtonValueError, match=message):
        WindowButton.decode(raw)


def test_the_refusal_names_what_the_button_was_for() -> None:
    with pytest.raises(ButtonValueError, match="does not name a series"):
        WindowButton.decode("S-1", "series")


@pytest.mark.parametrize("button", [StepButton(3, "prod", "restore", "save")])
def test_a_step_button_reads_back_as_written(button: StepButton) -> None:
    assert StepButton.decode(button.encode(), KNOWN) == button


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("3|prod|off", "arrived incomplete"),
        ("3|prod|off|nightly|x", "arrived incomplete"),
        ("x|prod|off|nightly", "does not name a checklist step"),
        ("0|prod|off|nightly", "does not name a checklist step"),
        ("3|elsewhere|off|nightly", "does not name a checklist step"),
        ("3|prod|sideways|nightly", "does not name a checklist step"),
    ],
)
def test_a_malformed_step_value_is_refused(raw: str, message: str) -> None:
    with pytest.raises(ButtonValueError, match=message):
        StepButton.decode(raw, KNOWN)


@pytest.mark.parametrize("raw", ["12", "12|", "x|prod", "12|elsewhere", "0|prod", "12|prod|off"])
def test_a_malformed_window_environment_value_is_refused(raw: str) -> None:
    with pytest.raises(ButtonValueError, match="does not name a window's environment"):
        WindowEnvironmentButton.decode(raw, KNOWN)


def test_a_button_value_error_is_shown_like_any_input_error() -> None:
    assert issubclass(ButtonValueError, InputError)
