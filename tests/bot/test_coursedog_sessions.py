"""One Coursedog login per host and user serves every environment on it, through the front door."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.config import parse_settings
from bot.errors import ConfigError
from bot.run.clients import coursedog_clients
from bot.slack import ids
from tests.harness import APPROVER, EMAIL, REQUESTER, Bot, running_bot, settings_document

SESSIONS = "/api/v1/sessions"


def window_over_prod_and_staging(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod,staging 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    assert "switched off and verified" in " ".join(bot.thread(1))


def test_one_login_serves_every_environment_on_the_host(database_url: str) -> None:
    with running_bot(database_url) as bot:
        window_over_prod_and_staging(bot)
        bot.runtime.worker.watch()  # the watchdog reads every environment, sandbox too
        bot.command(REQUESTER, "end MW-1")
        assert bot.settle()

        assert bot.sim.calls("POST", SESSIONS) == 1
        assert {p for m, p in bot.sim.requests if m == "GET"} >= {
            f"/api/v1/state_u_{school}/general/integrationSchedule"
            for school in ("prod", "staging", "sandbox")
        }
        assert "restored and verified" in " ".join(bot.thread(1))


def test_a_web_login_mid_window_is_named_once_and_one_login_follows(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with running_bot(database_url) as bot:
        window_over_prod_and_staging(bot)
        bot.sim.revoke_sessions()  # the service user signed in to Coursedog's web app
        with caplog.at_level(logging.INFO, logger="coursedog"):
            bot.command(REQUESTER, "end MW-1")
            assert bot.settle()

        assert bot.sim.calls("POST", SESSIONS) == 2
        schools = bot.sim.schools
        assert (schools["state_u_prod"].nightly, schools["state_u_prod"].realtime) == (True, True)
        assert (schools["state_u_staging"].nightly, schools["state_u_staging"].realtime) == (
            True,
            False,
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert f"ended the session of {EMAIL}" in warnings[0]
    assert "most likely someone signed in to the Coursedog web app as this user" in warnings[0]


def two_hosts(**prod: Any) -> dict[str, Any]:
    doc = settings_document("https://app.coursedog.com")
    doc["environments"]["staging"]["base_url"] = "https://staging.coursedog.com"
    doc["environments"]["prod"].update(prod)
    doc["coursedog_hosts"] = {
        "staging.coursedog.com": {"comment_path": "/api/v1/{school}/activity"},
    }
    return doc


def test_environments_share_a_session_per_host_and_user_with_that_hosts_paths() -> None:
    settings = parse_settings(two_hosts())
    environ = {"CD_EMAIL": EMAIL, "CD_PASSWORD": "pw-1234567"}

    clients = coursedog_clients(settings, environ)
    try:
        assert clients["prod"].session is clients["sandbox"].session
        assert clients["staging"].session is not clients["prod"].session
        assert clients["staging"].wire.comment_path == "/api/v1/{school}/activity"
        assert clients["prod"].wire.comment_path.endswith("/mergeSettings/activity")
        only = coursedog_clients(settings, environ, only=["staging"])
        assert list(only) == ["staging"]
        only["staging"].close()
    finally:
        for client in clients.values():
            client.close()


def test_one_user_with_two_passwords_on_a_host_is_a_configuration_error() -> None:
    settings = parse_settings(two_hosts(password_env="CD_PROD_PASSWORD"))
    environ = {"CD_EMAIL": EMAIL, "CD_PASSWORD": "pw-1234567", "CD_PROD_PASSWORD": "pw-7654321"}

    with pytest.raises(ConfigError) as caught:
        coursedog_clients(settings, environ)

    assert str(caught.value) == (
        f"environments.sandbox: {EMAIL} at app.coursedog.com is given two different passwords"
    )
    assert "pw-" not in str(caught.value)
