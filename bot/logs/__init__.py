"""Logging: one JSON object (or one text line) per record, a request id, and no secrets."""

from bot.logs.context import CarryContext, current_fields, log_context, new_request_id
from bot.logs.redact import Redactor
from bot.logs.setup import configure_logging, secrets_in

__all__ = [
    "CarryContext",
    "Redactor",
    "configure_logging",
    "current_fields",
    "log_context",
    "new_request_id",
    "secrets_in",
]
