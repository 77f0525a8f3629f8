"""With the workspace and app configured, requests naming any other are refused and logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.config import SlackConfig, parse_settings
from bot.errors import ConfigError
from bot.slack import ids
from bot.slack.workspace import foreign
from tests.harness import APPROVER, REQUESTER, Bot, running_bot, settings_document

TEAM, APP = "T0TEAM000", "A0APP0000"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    def configured(url: str) -> Any:
        return parse_settings(settings_document(url, slack={"team_id": TEAM, "api_app_id": APP}))

    with running_bot(database_url, settings_factory=configured) as running:
        yield running


def command(text: str, **changes: str | None) -> str:
    form: dict[str, str | None] = {
        "command": ids.COMMAND,
        "text": text,
        "user_id": REQUESTER,
        "team_id": TEAM,
        "api_app_id": APP,
        "trigger_id": "trigger-1",
        "response_url": "http://127.0.0.1:9/respond",
        **changes,
    }
    return urlencode({k: v for k, v in form.items() if v is not None})


def click(**changes: Any) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": APPROVER, "team_id": TEAM},
        "api_app_id": APP,
        "actions": [{"action_id": ids.APPROVE, "value": "1", "block_id": ids.BLOCK_DECISION}],
        **changes,
    }
    return urlencode({"payload": json.dumps(payload)})


def refused(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.slack.workspace" and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("changes", "logged"),
    [
        ({"team_id": "T0OTHER00"}, "comes from workspace T0OTHER00, not T0TEAM000"),
        ({"team_id": None}, "names no workspace"),
        ({"api_app_id": "A0OTHER00"}, "is for app A0OTHER00, not A0APP0000"),
        ({"api_app_id": None}, "is for app (none), not A0APP0000"),
    ],
)
def test_a_command_from_another_workspace_or_app_is_refused(
    bot: Bot, caplog: pytest.LogCaptureFixture, changes: dict[str, str | None], logged: str
) -> None:
    caplog.set_level(logging.WARNING)
    response = bot.post(command("start prod 2h", **changes), FORM)
    assert response.status_code == 403
    assert bot.settle() and bot.cards() == []
    (message,) = refused(caplog)
    assert f"refused a Slack slash command from user {REQUESTER}: it {logged}" == message


@pytest.mark.parametrize(
    ("changes", "logged"),
    [
        ({"team": {"id": "T0OTHER00"}}, "comes from workspace T0OTHER00"),
        ({"user": {"id": APPROVER, "team_id": "T0OTHER00"}}, "comes from workspace T0OTHER00"),
        ({"team": None, "user": {"id": APPROVER}}, "names no workspace"),
        ({"api_app_id": "A0OTHER00"}, "is for app A0OTHER00"),
    ],
)
def test_a_button_press_from_another_workspace_or_app_changes_nothing(
    bot: Bot, caplog: pytest.LogCaptureFixture, changes: dict[str, Any], logged: str
) -> None:
    bot.command(REQUESTER, "start prod 2h")
    bot.wait_card(1)
    caplog.set_level(logging.WARNING)
    response = bot.post(click(**changes), FORM)
    assert response.status_code == 403 and bot.settle()
    assert bot.sim.school("state_u_prod").writes == 0
    assert any(logged in m and "block_actions" in m for m in refused(caplog))
    assert bot.post(click(), FORM).status_code == 200  # the same press from this workspace
    assert bot.settle() and bot.sim.school("state_u_prod").writes == 1


def test_requests_from_the_configured_workspace_and_app_pass(bot: Bot) -> None:
    assert "MW-1" in bot.command(REQUESTER, "start prod 2h").json()["text"]
    assert bot.open_home(REQUESTER).status_code == 200


def test_without_configuration_every_workspace_is_served(database_url: str) -> None:
    with running_bot(database_url) as running:
        response = running.post(command("help", team_id="T0OTHER00"), FORM)
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "expected", "verdict"),
    [
        ({"team_id": TEAM, "api_app_id": APP}, SlackConfig(team_id=TEAM), None),
        ({"team": TEAM}, SlackConfig(team_id=TEAM), None),
        ({"team": {"id": TEAM}, "user": {"team_id": "T0X"}}, SlackConfig(team_id=TEAM), "T0X"),
        ({}, SlackConfig(api_app_id=APP), "(none)"),
        ({"team_id": "T0X"}, SlackConfig(), None),
    ],
)
def test_which_requests_are_foreign(
    body: dict[str, Any], expected: SlackConfig, verdict: str | None
) -> None:
    problem = foreign(body, expected)
    assert (problem is None) if verdict is None else (verdict in (problem or ""))


def test_the_ids_in_the_configuration_are_checked() -> None:
    with pytest.raises(
        ConfigError, match=r"\[slack\] team_id: 'acme' is not the workspace's team ID"
    ):
        parse_settings(settings_document("http://127.0.0.1:1", slack={"team_id": "acme"}))
    with pytest.raises(ConfigError, match=r"\[slack\] api_app_id: 'T0TEAM000' is not the app's ID"):
        parse_settings(settings_document("http://127.0.0.1:1", slack={"api_app_id": "T0TEAM000"}))
