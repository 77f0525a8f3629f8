"""Any body at all, correctly signed, gets a clean answer from /slack/events: never a crash."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import ids
from tests.bot.test_gate import FORM, JSON, command_body, interactive, refusals
from tests.fuzzing import FUZZ
from tests.harness import REQUESTER, Bot

KEYS = (
    "type",
    "team",
    "user",
    "view",
    "actions",
    "event",
    "channel",
    "container",
    "message",
    "state",
    "callback_id",
    "action_id",
    "value",
    "id",
    "team_id",
    "api_app_id",
    "command",
    "text",
    "user_id",
    "trigger_id",
    "response_url",
    "authorizations",
    "enterprise",
    "item",
    "previous_message",
    "function_data",
    "response_urls",
    "selected_date_time",
    "values",
)
TYPES = (
    "view_submission",
    "view_closed",
    "block_actions",
    "event_callback",
    "app_home_opened",
    "block_suggestion",
    "shortcut",
    "url_verification",
    "modal",
    "home",
    "message",
)
OURS = (
    ids.APPROVE,
    ids.DENY,
    ids.CANCEL,
    ids.REENABLE,
    ids.EXTEND_30,
    ids.REQUEST_VIEW,
    ids.DENY_VIEW,
    ids.SAVE_STATE_LEAVE,
    ids.COMMAND,
    "1",
    "prod",
    REQUESTER,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.sampled_from(TYPES + OURS),
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=5)
    ),
    max_leaves=12,
)
shaped = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={key: documents for key in KEYS if key != "type"},
)
bodies = st.one_of(
    st.builds(lambda d: (json.dumps(d), JSON), st.one_of(shaped, documents)),
    st.builds(lambda d: (interactive(d), FORM), st.one_of(shaped, documents)),
    st.builds(
        lambda d: (urlencode({k: str(v) for k, v in d.items()}), FORM),
        st.dictionaries(st.sampled_from(KEYS), scalars, max_size=8),
    ),
    st.builds(lambda t: (command_body(t), FORM), st.text(max_size=30)),
    st.builds(lambda b: (b, FORM), st.text(max_size=60)),
)


def test_any_signed_body_gets_a_clean_answer_never_a_crash(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seen: dict[int, int] = {}

    @settings(
        max_examples=FUZZ.http_bodies,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies)
    def post(body: tuple[str, str]) -> None:
        caplog.clear()
        response = bot.post(*body)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code in (200, 400, 403, 404), response.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], (
            "an unexpected error was logged"
        )
        if response.status_code == 400:
            assert refusals(caplog), "a refusal was not logged"
        assert "Something unexpected" not in response.text

    post()
    assert bot.settle()
    assert not any("Something unexpected" in json.dumps(r) for r in bot.responses())
    assert (seen.get(400) and seen.get(200)) or seen.get(404), seen
