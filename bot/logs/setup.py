"""Installing the log handler: the format (LOG_FORMAT or the config), the context, the redactor."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config import Settings
from bot.logs.context import current_fields
from bot.logs.redact import STANDARD_ATTRIBUTES, Redactor
from bot.process_env import ProcessEnv

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class ContextFilter(logging.Filter):
    """Copies the current context's fields (request id, action, ...) onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record."""
        for key, value in current_fields().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        if not hasattr(record, "request_id"):
            record.request_id = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, thread, the rest."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, with the request id (or ``-``) in brackets."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The record as text."""
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        try:
            return super().format(record)
        finally:
            if getattr(record, "request_id", None) == "-":
                record.request_id = None


class _Handler(logging.StreamHandler[IO[str]]):
    """Marks the handler this module installed, so installing again replaces it."""


def log_format(env: ProcessEnv, settings: Settings | None = None) -> str:
    """LOG_FORMAT if set, else the config's ``logging.format``, else text."""
    if env.log_format is not None:
        return env.log_format
    return settings.logging.format if settings is not None else "text"


def secrets_in(env: ProcessEnv, settings: Settings | None = None) -> list[str]:
    """The secret values a deployment holds: Slack's, the database's, Coursedog's, the feed's,
    the webhooks'."""
    slack = (env.slack_bot_token, env.slack_app_token, env.slack_signing_secret)
    found = [secret.get_secret_value() for secret in slack if secret is not None]
    variables = env.variables
    if settings is not None:
        names = [e.password_env for e in settings.environments.values() if e.password_env]
        if settings.coursedog_notice.password_env:
            names.append(settings.coursedog_notice.password_env)
        if settings.calendar.token_env:
            names.append(settings.calendar.token_env)
        names.extend(hook.secret_env for hook in settings.webhooks)
        found += [variables[name] for name in names if variables.get(name)]
        found.append(settings.simulator.demo_password)
    try:
        password = make_url(env.database_url).password
    except ArgumentError:
        password = None
    if password:
        found.append(str(password))
    return found + sorted(_named_secrets(variables))


SECRET_SUFFIXES = ("TOKEN", "SECRET", "PASSWORD")
SHORTEST_SECRET = 6  # shorter values would blank out ordinary words


def _named_secrets(variables: Mapping[str, str]) -> set[str]:
    """Values of environment variables whose names say they are secret (…_TOKEN, …_SECRET,
    …_PASSWORD): covers what a library might log in a future version."""
    found = {v for k, v in variables.items() if k.upper().endswith(SECRET_SUFFIXES)}
    return {v for v in found if len(v) >= SHORTEST_SECRET}


def configure_logging(
    env: ProcessEnv,
    settings: Settings | None = None,
    *,
    stream: IO[str] | None = None,
    verbose: bool = False,
) -> Redactor:
    """Install (or replace) the root handler; call again once the settings are known.

    Alembic's step-by-step INFO lines show only when ``verbose`` or at LOG_LEVEL=DEBUG.
    """
    fmt, level = log_format(env, settings), env.log_level
    # A migration's plugins and steps are a dozen lines nobody asked for; its errors still show.
    quiet = not verbose and level != "DEBUG"
    logging.getLogger("alembic").setLevel(logging.WARNING if quiet else logging.NOTSET)
    redactor = Redactor(secrets_in(env, settings))
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(redactor)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    return redactor
