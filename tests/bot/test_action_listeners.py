"""bot.slack.listeners.actions: one listener per action id of its table, acknowledged at once."""

from __future__ import annotations

import json
from functools import partial
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, Respond
from slack_bolt.authorization import AuthorizeResult

from bot.slack import ids
from bot.slack.after_ack import Later, Work
from bot.slack.context import SlackDeps
from bot.slack.listeners import actions

BUTTONS = (
    ids.APPROVE,
    ids.DENY,
    ids.EXTEND_30,
    ids.EXTEND_60,
    ids.REENABLE,
    ids.CANCEL,
    ids.SAVE_STATE_RESTORE,
    ids.SAVE_STATE_LEAVE,
    ids.BASELINE_OBSERVED,
    ids.BASELINE_FOUND,
    ids.NOTICE_SENT,
)


class _Later:
    """Records the work a listener leaves for after its acknowledgement, and runs none."""

    def __init__(self) -> None:
        self.left: list[tuple[Respond, Work]] = []

    def __call__(self, respond: Respond, work: Work) -> None:
        self.left.append((respond, work))

    def quietly(self, work: Work) -> None:
        self.left.append((cast(Respond, None), work))


@pytest.fixture
def app_and_later() -> tuple[App, _Later]:
    app = App(
        signing_secret="test-secret",
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T0TEAM", bot_token="xoxb-test", bot_user_id="U0BOT"
        ),
        request_verification_enabled=False,
        process_before_response=True,
    )
    later = _Later()
    actions.register(app, cast(SlackDeps, object()), cast(Later, later))
    return app, later


def click(app: App, action_id: str) -> int:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0CLICKER"},
        "response_url": "http://127.0.0.1:9/respond",
        "actions": [{"action_id": action_id, "value": "7", "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    request = BoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"})
    return app.dispatch(request).status


def test_the_table_holds_every_button_of_the_window_cards_once() -> None:
    assert sorted(actions.CLICKS) == sorted(BUTTONS)


@pytest.mark.parametrize("action_id", BUTTONS)
def test_a_click_is_acknowledged_and_its_own_work_left_for_later(
    app_and_later: tuple[App, _Later], action_id: str
) -> None:
    app, later = app_and_later
    assert click(app, action_id) == 200
    [(_respond, work)] = later.left
    assert isinstance(work, partial) and work.func is actions.CLICKS[action_id]


def test_a_button_not_in_the_table_has_no_listener(app_and_later: tuple[App, _Later]) -> None:
    app, later = app_and_later
    assert click(app, "window_unknown") == 404
    assert later.left == []


def test_the_window_buttons_read_the_window_from_the_button(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(actions, "_approve", lambda _deps, action: seen.append(action))
    payload = {
        "user": {"id": "U0CLICKER"},
        "actions": [{"action_id": ids.APPROVE, "value": "42"}],
    }
    actions._on_window(actions._approve)(cast(SlackDeps, None), payload, cast(Respond, None))
    assert [(a.action_id, a.window_id, a.user_id) for a in seen] == [(ids.APPROVE, 42, "U0CLICKER")]
