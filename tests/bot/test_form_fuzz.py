"""Any request form submitted over HTTP is accepted or answered on its fields; never a crash."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import ids
from tests.bot.domain.test_requests_fuzz import states
from tests.fuzzing import FUZZ, GENERIC, MAX_MESSAGE
from tests.harness import REQUESTER, ManualClock, running_bot

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
BLOCKS = {ids.B_ENVS, ids.B_WHEN, ids.B_START, ids.B_LENGTH, ids.B_END, ids.B_REASON, ids.B_TICKET}


def plausible(
    envs: list[str], at: bool, start: int, length: str | None, end: int | None, reason: str
) -> dict[str, Any]:
    """A form as a person fills it in: mostly sensible, sometimes not."""
    fields: dict[str, Any] = {
        ids.B_ENVS: {"selected_options": [{"value": e} for e in envs]},
        ids.B_WHEN: {"selected_option": {"value": ids.WHEN_AT if at else ids.WHEN_NOW}},
        ids.B_START: {"selected_date_time": int(NOW.timestamp()) + start if at else None},
        ids.B_LENGTH: {"value": length},
        ids.B_END: {"selected_date_time": None if end is None else int(NOW.timestamp()) + end},
        ids.B_REASON: {"value": reason},
        ids.B_TICKET: {"value": None},
    }
    return {block: {ids.FIELD_ACTION: value} for block, value in fields.items()}


plausible_states = st.builds(
    plausible,
    envs=st.one_of(
        st.lists(st.sampled_from(["prod", "staging", "sandbox"]), min_size=1, max_size=3),
        st.lists(st.sampled_from(["prod", "nope", ""]), max_size=2),
    ),
    at=st.booleans(),
    start=st.integers(-3600, 200 * 86400),
    length=st.one_of(
        st.sampled_from(["2h", "45m", "1h30m"]), st.sampled_from(["3d", "0m", "2x", "", None])
    ),
    end=st.one_of(st.none(), st.none(), st.integers(-3600, 4 * 86400)),
    reason=st.one_of(st.text(max_size=30), st.just("r" * 501)),
)


def submission(values: dict[str, Any]) -> str:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0TEAM000"},
        "user": {"id": REQUESTER},
        "api_app_id": "A0APP0000",
        "view": {
            "id": "V0FORM",
            "type": "modal",
            "callback_id": ids.REQUEST_VIEW,
            "state": {"values": values},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def test_any_submitted_form_is_accepted_or_answered_on_its_fields(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    accepted = refused = 0
    clock = ManualClock(NOW)
    with running_bot(database_url, clock=clock) as bot:

        @settings(
            max_examples=FUZZ.http_form,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(values=st.one_of(plausible_states, states))
        def submit(values: dict[str, Any]) -> None:
            nonlocal accepted, refused
            response = bot.post(submission(values), "application/x-www-form-urlencoded")
            assert response.status_code == 200, response.text
            if not response.text:
                accepted += 1
                return
            refused += 1
            body = response.json()
            assert body["response_action"] == "errors"
            assert body["errors"]
            for block, message in body["errors"].items():
                assert block in BLOCKS and message and len(message) <= MAX_MESSAGE
                assert not any(g in message.lower() for g in GENERIC), message

        submit()
        assert bot.settle()
        assert accepted and refused, (accepted, refused)
        assert len(bot.cards()) == accepted  # every accepted request got its card
    assert [r.getMessage() for r in caplog.records] == []
