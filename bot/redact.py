"""A last line of defence: log output never carries a secret from the environment.

The bot's own messages and errors name no secret (tests/bot/test_secrets.py checks that at
DEBUG level); this formatter also covers what libraries may log in future versions. It
replaces every secret-looking environment value (names ending in TOKEN, SECRET or PASSWORD,
and the password in DATABASE_URL) with ``***`` in the formatted record, traceback included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_SUFFIXES = ("TOKEN", "SECRET", "PASSWORD")
SHORTEST = 6  # shorter values would blank out ordinary words


def secrets_in(environ: Mapping[str, str]) -> set[str]:
    """Secret values found in the environment."""
    found = {v for k, v in environ.items() if k.upper().endswith(SECRET_SUFFIXES)}
    try:
        password = make_url(environ.get("DATABASE_URL") or "sqlite://").password
    except (ArgumentError, ValueError):
        password = None
    if isinstance(password, str):
        found.add(password)
    return {v for v in found if len(v) >= SHORTEST}


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out each secret."""

    def __init__(self, fmt: str | None, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record without secrets."""
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def install(fmt: str, environ: Mapping[str, str]) -> None:
    """Give every handler of the root logger the redacting formatter."""
    formatter = RedactingFormatter(fmt, secrets_in(environ))
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
