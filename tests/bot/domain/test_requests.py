"""Checking the request form: every field that cannot be used is named, in the form's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.requests import RequestForm, check_request
from bot.errors import FieldErrors

START = int(datetime(2026, 12, 5, 20, 0, tzinfo=UTC).timestamp())


def form(**changes: object) -> RequestForm:
    fields: dict[str, object] = {
        "environments": ("prod",),
        "start_now": True,
        "start": None,
        "length": "2h",
        "end": None,
        "reason": "",
        "ticket": "",
    }
    return RequestForm(**{**fields, **changes})  # type: ignore[arg-type]


def problems(**changes: object) -> dict[str, str]:
    with pytest.raises(FieldErrors) as caught:
        check_request(form(**changes))
    return caught.value.fields


def test_every_wrong_field_is_named_in_the_forms_order() -> None:
    found = problems(
        environments=(), start_now=False, length="2x", reason="r" * 501, ticket="t\x00"
    )
    assert list(found) == ["environments", "start", "duration", "reason", "ticket"]
    assert found["environments"] == "Pick at least one environment."
    assert found["start"] == "Pick the start date and time."
    assert "`2x`" in found["duration"] and "under 500" in found["reason"]
    assert "control character (U+0000)" in found["ticket"]


def test_the_first_problem_is_also_the_errors_own_message_and_field() -> None:
    with pytest.raises(FieldErrors) as caught:
        check_request(form(length="", reason="r" * 501))
    assert caught.value.field == "duration" and "Say how long" in str(caught.value)
    assert list(caught.value.fields) == ["duration", "reason"]


def test_an_end_waits_for_a_usable_start_before_it_is_judged() -> None:
    assert list(problems(start_now=False, start=-5, length="", end=START)) == ["start"]
    end_first = problems(start_now=False, start=START, length="", end=START - 3600)
    assert end_first == {"end": "The end must be after the start."}


def test_a_form_with_nothing_wrong_is_checked() -> None:
    checked = check_request(form(start_now=False, start=START, length="", end=START + 5400))
    assert checked.duration == timedelta(minutes=90) and checked.ticket is None
