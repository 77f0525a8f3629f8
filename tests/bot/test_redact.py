"""The log formatter the command line installs blanks out secrets from the environment."""

from __future__ import annotations

import logging

from bot.redact import RedactingFormatter, secrets_in

ENVIRON = {
    "SLACK_BOT_TOKEN": "xoxb-REDACTME-1",
    "SLACK_SIGNING_SECRET": "REDACTME-signing",
    "COURSEDOG_PROD_PASSWORD": "REDACTME-pw",
    "COURSEDOG_PROD_EMAIL": "svc@example.edu",
    "DATABASE_URL": "postgresql://sis:REDACTME-db@db.example.edu/ledger",
    "SHORT_TOKEN": "abc",
    "HOME": "/root",
}


def test_secrets_are_found_by_name_and_in_the_database_url() -> None:
    assert secrets_in(ENVIRON) == {
        "xoxb-REDACTME-1",
        "REDACTME-signing",
        "REDACTME-pw",
        "REDACTME-db",
    }
    assert secrets_in({"DATABASE_URL": "not a url"}) == set()


def test_messages_arguments_and_tracebacks_are_redacted() -> None:
    formatter = RedactingFormatter("%(levelname)s %(message)s", secrets_in(ENVIRON))
    try:
        raise RuntimeError("login with REDACTME-pw refused")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "token %s for %s", ("xoxb-REDACTME-1", "svc"), None
        )
        record.exc_info = (type(exc), exc, exc.__traceback__)
    text = formatter.format(record)
    assert "REDACTME" not in text
    assert "token *** for svc" in text and "login with *** refused" in text
    assert "Traceback" in text
