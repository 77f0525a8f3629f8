"""The log handler: one JSON object per line (or text), chosen by LOG_FORMAT or the config."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import parse_settings
from bot.errors import ConfigError
from bot.logs import configure_logging, log_context, secrets_in
from bot.logs.setup import log_format
from bot.process_env import ProcessEnv
from tests.bot.logs.conftest import Captured
from tests.bot.test_cli import run_cli, run_main
from tests.harness import settings_document

log = logging.getLogger("sis_maint.test")


def test_each_record_is_one_json_object_with_the_standard_fields_and_extras(
    capture_logs: Callable[..., Captured],
) -> None:
    captured = capture_logs()
    with log_context(request_id="req-1", action="start"):
        log.info("switched %s off", "prod", extra={"environment": "prod"})
    log.warning("two\nlines")
    try:
        raise ValueError("broken")
    except ValueError:
        log.exception("it failed")
    lines = captured.lines()
    assert len(lines) == 3  # the newline inside a message stays inside its line
    first, second, third = (json.loads(line) for line in lines)
    assert first["message"] == "switched prod off" and first["level"] == "INFO"
    assert first["logger"] == "sis_maint.test" and first["time"].endswith("+00:00")
    assert first["request_id"] == "req-1" and first["action"] == "start"
    assert first["environment"] == "prod" and first["thread"]
    assert second["request_id"] is None and second["message"] == "two\nlines"
    assert "ValueError: broken" in third["exception"] and third["level"] == "ERROR"


def test_text_lines_show_the_request_id(capture_logs: Callable[..., Captured]) -> None:
    captured = capture_logs({"LOG_FORMAT": "text"})
    with log_context(request_id="abc123"):
        log.info("inside")
    log.info("outside")
    inside, outside = captured.lines()
    assert inside.endswith("INFO sis_maint.test [abc123]: inside")
    assert outside.endswith("INFO sis_maint.test [-]: outside")


def test_log_format_comes_from_the_environment_then_the_config_then_text() -> None:
    doc = settings_document("http://127.0.0.1:1")
    as_json = parse_settings({**doc, "logging": {"format": "json"}})
    unset = ProcessEnv.read({})
    assert log_format(unset) == "text"
    assert log_format(unset, parse_settings(doc)) == "text"
    assert log_format(unset, as_json) == "json"
    assert log_format(ProcessEnv.read({"LOG_FORMAT": "text"}), as_json) == "text"
    assert log_format(ProcessEnv.read({"LOG_FORMAT": "JSON"})) == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be json or text"):
        log_format(ProcessEnv.read({"LOG_FORMAT": "yaml"}))
    with pytest.raises(ConfigError, match=r"\[logging\] format: must be one of 'text', 'json'"):
        parse_settings({**doc, "logging": {"format": "xml"}})


def test_configuring_twice_replaces_the_handler(capture_logs: Callable[..., Captured]) -> None:
    first = capture_logs()
    second = capture_logs()
    log.info("once")
    assert first.lines() == [] and len(second.lines()) == 1


def test_the_deployment_secrets_are_found_in_the_environment_and_the_config() -> None:
    doc = settings_document("http://127.0.0.1:1")
    doc["calendar"] = {"token_env": "FEED_TOKEN"}
    doc["webhooks"] = [{"name": "hook", "url": "https://h.example.edu/", "secret_env": "HOOK_KEY"}]
    settings = parse_settings(doc)
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-bot",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "CD_PASSWORD": "coursedog-pw",
        "FEED_TOKEN": "feed-token-value",
        "HOOK_KEY": "webhook-signing-key",
        "DATABASE_URL": "postgresql://sis:db-pw@db.example.edu/ledger",
        "UNRELATED": "not-a-secret",
    }
    found = set(secrets_in(ProcessEnv.read(environ), settings))
    assert {"xoxb-bot", "signing-secret", "coursedog-pw", "feed-token-value", "db-pw"} <= found
    assert "webhook-signing-key" in found
    assert "not-a-secret" not in found


def test_the_command_line_refuses_an_unknown_log_format(tmp_path: Path) -> None:
    result = run_main("check-config", env={"LOG_FORMAT": "yaml"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "LOG_FORMAT must be json or text" in result.stderr


@pytest.mark.subprocess
def test_serve_logs_json_lines_without_the_tokens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    assert run_main("migrate", env={"DATABASE_URL": url}).returncode == 0
    token, secret = "xoxb-0123-secret-bot-token", "signing-secret-never-shown"
    result = run_cli(
        "serve",
        env={
            "LOG_FORMAT": "json",
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": token,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens: Slack is unreachable
        },
    )
    assert result.returncode == 2 and "Slack's Web API cannot be reached" in result.stderr
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert logged and all({"time", "level", "logger", "message"} <= set(r) for r in logged)
    assert token not in result.stderr and secret not in result.stderr


def test_configure_logging_refuses_an_unknown_level() -> None:
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        configure_logging(ProcessEnv.read({"LOG_LEVEL": "LOUD"}))


def test_any_variable_named_as_a_secret_is_masked_too() -> None:
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-REDACTME-1",
        "SMTP_PASSWORD": "REDACTME-mail",
        "SOME_LIBRARY_SECRET": "REDACTME-lib",
        "DATABASE_URL": "postgresql://sis:REDACTME-db@db.example.edu/ledger",
        "SHORT_TOKEN": "abc",  # too short to mask without blanking ordinary words
        "COURSEDOG_PROD_EMAIL": "svc@example.edu",
    }
    found = set(secrets_in(ProcessEnv.read(environ)))
    assert {"xoxb-REDACTME-1", "REDACTME-mail", "REDACTME-lib", "REDACTME-db"} <= found
    assert "abc" not in found and "svc@example.edu" not in found
