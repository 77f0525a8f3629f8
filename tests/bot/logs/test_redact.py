"""No secret reaches a log line: neither the known values nor anything shaped like one."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.config import parse_settings
from bot.logs import Redactor, log_context
from tests.bot.logs.conftest import Captured
from tests.harness import settings_document

log = logging.getLogger("sis_maint.test")

ENVIRON = {
    "SLACK_BOT_TOKEN": "xoxb-111-222-abcdefghij",
    "SLACK_APP_TOKEN": "xapp-1-A0-333-abcdef",
    "SLACK_SIGNING_SECRET": "8f3c0d1e2b4a5968",
    "DATABASE_URL": "postgresql://sis:ledger-pw-77@db.internal/sis",
}


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("token xoxb-999-888-zzzzzz in use", "xoxb-999-888-zzzzzz"),
        ("app token xapp-1-B0-444-qqq", "xapp-1-B0-444-qqq"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ('{"email": "a@b.edu", "plaintextPassword": "hunter22"}', "hunter22"),
        ("login with password=hunter22&x=1", "hunter22"),
        ("Cookie: token=abc.def.ghi", "abc.def.ghi"),
        ("connecting to postgresql://u:s3cr3t@host:5432/db", "s3cr3t"),
        ("signing_secret: 0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_secret_shapes_are_masked_whatever_their_value(text: str, hidden: str) -> None:
    cleaned = Redactor().redact(text)
    assert hidden not in cleaned and "[redacted]" in cleaned


def test_known_values_are_masked_and_very_short_ones_are_left_alone() -> None:
    redactor = Redactor(["coursedog-pw-1", "ab", ""])
    assert redactor.redact("logged in with coursedog-pw-1") == "logged in with [redacted]"
    assert redactor.redact("table tab about") == "table tab about"


def test_the_handler_masks_message_arguments_extras_context_and_tracebacks(
    capture_logs: Callable[..., Captured],
) -> None:
    captured = capture_logs(ENVIRON)
    with log_context(request_id="r1", note=f"secret is {ENVIRON['SLACK_SIGNING_SECRET']}"):
        log.info("using %s", ENVIRON["SLACK_BOT_TOKEN"], extra={"db": ENVIRON["DATABASE_URL"]})
    try:
        raise RuntimeError(f"Slack refused {ENVIRON['SLACK_APP_TOKEN']}")
    except RuntimeError:
        log.exception("failed")
    text = "\n".join(captured.lines())
    for secret in ("xoxb-111-222-abcdefghij", "xapp-1-A0-333-abcdef", "8f3c0d1e2b4a5968"):
        assert secret not in text
    assert "ledger-pw-77" not in text
    first, second = captured.records()
    assert first["message"] == "using [redacted]"
    assert first["note"] == "secret is [redacted]"
    assert first["db"] == "postgresql://sis:[redacted]@db.internal/sis"
    assert "RuntimeError: Slack refused [redacted]" in second["exception"]


def test_a_coursedog_password_named_by_the_config_is_masked(
    capture_logs: Callable[..., Captured],
) -> None:
    settings = parse_settings(settings_document("http://127.0.0.1:1"))
    captured = capture_logs({"CD_PASSWORD": "Spring2026!"}, settings)
    log.warning("Coursedog said: wrong credentials Spring2026! for svc")
    assert "Spring2026!" not in captured.lines()[0]
