"""The button listeners (bot.slack.listeners.actions, checklist, series_actions): one listener
per action id of each module's table (bot.slack.listeners.clicks), acknowledged at once."""

from __future__ import annotations

import ast
import json
from functools import partial
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, Respond
from slack_bolt.authorization import AuthorizeResult

from bot.slack import ids
from bot.slack.after_ack import Later, Work
from bot.slack.context import SlackDeps
from bot.slack.listeners import actions, checklist, home, series_actions

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
TABLES = (actions, checklist, home, series_actions)
SLACK = Path(__file__).resolve().parents[2] / "bot" / "slack"


class _Later:
    """Records the work a listener leaves for after its acknowledgement, and runs none."""

    def __init__(self) -> None:
        self.left: list[tuple[Respond, Work]] = []

    def __call__(self, respond: Respond, work: Work) -> None:
        self.left.append((respond, work))

    def quietly(self, work: Work) -> None:
        self.left.append((cast(Respond, None), work))


def rendered_buttons() -> set[str]:
    """The action ids of every button bot/slack renders: an ``ids`` name given to a function
    that makes a button, or set as the "action_id" of an element of type "button"."""
    found: set[str] = set()
    for path in SLACK.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            given = None
            if isinstance(node, ast.Call) and node.args and "button" in ast.unparse(node.func):
                given = node.args[0]
            elif isinstance(node, ast.Dict):
                keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
                fields = dict(zip(keys, node.values, strict=True))
                if ast.unparse(fields.get("type", ast.Constant(None))) == "'button'":
                    given = fields.get("action_id")
            if isinstance(given, ast.Attribute) and ast.unparse(given.value) == "ids":
                found.add(getattr(ids, given.attr))
    return found


def new_app() -> App:
    return App(
        signing_secret="test-secret",
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T0TEAM", bot_token="xoxb-test", bot_user_id="U0BOT"
        ),
        request_verification_enabled=False,
        process_before_response=True,
    )


@pytest.fixture
def app_and_later() -> tuple[App, _Later]:
    app, later = new_app(), _Later()
    for table in TABLES:
        table.register(app, cast(SlackDeps, object()), cast(Later, later))
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


def test_every_button_rendered_has_a_listener_in_one_table_and_every_entry_a_button() -> None:
    tables = [set(table.CLICKS) for table in TABLES]
    assert sum(len(t) for t in tables) == len(set().union(*tables))  # no id in two tables
    rendered = rendered_buttons()
    assert {ids.APPROVE, ids.CHECK_EARLY, ids.SERIES_DENY, ids.NOTICE_SENT} <= rendered
    assert set().union(*tables) == rendered


@pytest.mark.parametrize(
    ("table", "action_id"),
    [(table, action_id) for table in TABLES for action_id in table.CLICKS],
    ids=lambda value: value.__name__.rsplit(".", 1)[-1] if isinstance(value, ModuleType) else None,
)
def test_a_click_is_acknowledged_and_its_own_work_left_for_later(
    app_and_later: tuple[App, _Later], table: Any, action_id: str
) -> None:
    app, later = app_and_later
    assert click(app, action_id) == 200
    [(_respond, work)] = later.left
    assert isinstance(work, partial) and work.func is table.CLICKS[action_id]


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


def test_the_series_buttons_read_the_series_from_the_button() -> None:
    seen: list[Any] = []
    payload = {
        "user": {"id": "U0CLICKER"},
        "actions": [{"action_id": ids.SERIES_APPROVE, "value": "9"}],
    }
    on_series = series_actions._on_series(lambda _deps, action: seen.append(action))
    on_series(cast(SlackDeps, None), payload, cast(Respond, None))
    assert [(a.action_id, a.window_id, a.user_id) for a in seen] == [
        (ids.SERIES_APPROVE, 9, "U0CLICKER")
    ]


def test_the_checklist_buttons_are_checked_against_the_configured_environments() -> None:
    seen: list[Any] = []
    names = {"prod": "prod", "p": "prod"}
    deps = SimpleNamespace(settings=SimpleNamespace(environment_names=lambda: names))
    payload = {"actions": [{"action_id": ids.CHECK_DONE, "value": "7|p|off|nightly"}]}
    respond = cast(Respond, object())
    step = checklist._named(lambda *given: seen.append(given))
    step(cast(SlackDeps, deps), payload, respond)
    assert seen == [(deps, payload, respond, names)]
