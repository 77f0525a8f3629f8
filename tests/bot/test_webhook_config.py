"""The [[webhooks]] configuration: what is accepted, and each refusal names the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.config import parse_settings
from bot.errors import ConfigError
from tests.harness import settings_document

SECRET = "endpoint-secret-0123456789abcdef"


def hooks(*endpoints: dict[str, Any], **delivery: Any) -> dict[str, Any]:
    doc = settings_document("http://127.0.0.1:8787", webhooks=list(endpoints))
    if delivery:
        doc["webhook_delivery"] = delivery
    return doc


def hook(**fields: Any) -> dict[str, Any]:
    return {
        "name": "statuspage",
        "url": "https://hooks.example.edu/in",
        "secret_env": "HOOK_SECRET",
    } | fields


def test_an_endpoint_with_a_filter_and_delivery_settings_is_read() -> None:
    settings = parse_settings(
        hooks(hook(events=["active", "ended"]), hook(name="teams"), report_after=3)
    )
    statuspage, teams = settings.webhooks
    assert statuspage.wants("active") and not statuspage.wants("requested")
    assert teams.wants("requested")  # no filter: every event
    assert settings.webhook_delivery.report_after == 3


@pytest.mark.parametrize(
    "url", ["http://localhost:9000/in", "http://127.0.0.1/in", "http://[::1]:8/x"]
)
def test_plain_http_is_accepted_to_this_machine_only(url: str) -> None:
    assert parse_settings(hooks(hook(url=url))).webhooks[0].url == url


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "http://hooks.example.edu/in"}, "[webhooks[0]] url: use https://"),
        ({"url": "ftp://hooks.example.edu/in"}, "[webhooks[0]] url: must be an https:// URL"),
        ({"url": "hooks.example.edu/in"}, "[webhooks[0]] url: must be an https:// URL"),
        ({"url": "https://user:pw@hooks.example.edu/in"}, "put no user or password in the URL"),
        ({"events": ["switched_on"]}, "[webhooks[0]] events[0]: must be one of 'requested'"),
        ({"secret_env": "lower-case"}, "[webhooks[0]] secret_env: this names an environment"),
        ({"name": "Status Page"}, "[webhooks[0]] name: 'Status Page' is not a short"),
        ({"colour": "red"}, "[webhooks[0]]: unknown key `colour`"),
    ],
)
def test_a_bad_endpoint_is_refused_naming_the_key(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_settings(hooks(hook(**fields)))


TOKEN = "sig=Zm9vYmFyLXRva2VuLTAxMjM0NTY3"


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://hooks.example.edu/in?{TOKEN}",
        f"hooks.example.edu/in?{TOKEN}",
        f"https:///in?{TOKEN}",
        f"http://hooks.example.edu/in?{TOKEN}",
        f"https://user:{TOKEN}@hooks.example.edu/in",
        f"https://hooks.example.edu/in?{TOKEN}&pad={'x' * 2000}",
    ],
)
def test_a_refused_url_is_not_repeated_in_the_message(url: str) -> None:
    """Webhook URLs often carry their credential (Teams, Statuspage): the key names the URL."""
    with pytest.raises(ConfigError, match=re.escape("[webhooks[0]] url: ")) as caught:
        parse_settings(hooks(hook(url=url)))
    assert "Zm9vYmFy" not in str(caught.value)


def test_two_endpoints_with_one_name_are_refused() -> None:
    with pytest.raises(ConfigError, match="the webhook name 'statuspage' is used twice"):
        parse_settings(hooks(hook(), hook(url="https://other.example.edu/")))


def test_bad_delivery_settings_are_refused_naming_the_key() -> None:
    expected = "[webhook_delivery] max_attempts: must be at least 1"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_settings(hooks(hook(), max_attempts=0))


def test_the_secret_comes_from_the_variable_named() -> None:
    endpoint = parse_settings(hooks(hook())).webhooks[0]
    assert endpoint.secret({"HOOK_SECRET": SECRET}).get_secret_value() == SECRET


@pytest.mark.parametrize("variables", [{}, {"HOOK_SECRET": ""}, {"HOOK_SECRET": "tiny-secret"}])
def test_a_missing_or_short_secret_names_the_variable(variables: dict[str, str]) -> None:
    endpoint = parse_settings(hooks(hook())).webhooks[0]
    with pytest.raises(ConfigError, match=r"webhooks\.statuspage: set HOOK_SECRET") as caught:
        endpoint.secret(variables)
    assert "tiny-secret" not in str(caught.value)


CONFIG = """
approvals_channel = "C0APPROVALS"
[environments.prod]
label = "Production"
base_url = "https://example.coursedog.com"
school = "state_u_prod"
driver = "assisted"
[[webhooks]]
name = "statuspage"
url = "https://hooks.example.edu/in"
secret_env = "HOOK_SECRET"
"""


@pytest.mark.usefixtures("cli_in_process")
@pytest.mark.parametrize("command", [["check-config"], ["serve", "--http", "--port", "0"]])
def test_a_missing_secret_stops_the_command_naming_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    config = tmp_path / "sis-maint.toml"
    config.write_text(CONFIG)
    environ = {
        "SIS_MAINT_CONFIG": str(config),
        "DATABASE_URL": f"sqlite:///{tmp_path}/never.db",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret-for-a-start-that-stops-early",
    }
    assert cli.main(command, environ) == 2
    assert "webhooks.statuspage: set HOOK_SECRET" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()  # refused before the ledger was opened
    environ["HOOK_SECRET"] = SECRET
    if command == ["check-config"]:
        assert cli.main(command, environ) == 0
