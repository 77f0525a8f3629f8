"""Typed errors. Their text is what the person in Slack reads, so it is short and specific."""

from __future__ import annotations

from collections.abc import Mapping

SHOWN_LIMIT = 40


def shown(text: str, limit: int = SHOWN_LIMIT) -> str:
    """What someone typed, fit to be shown back inside backticks: one line, short, no backticks."""
    flat = " ".join(text.replace("`", "'").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quote(text: str) -> str:
    """What someone typed, shown back in a message as code: ``quote("2x") == "`2x`"``."""
    return f"`{shown(text) or ' '}`"


class SisMaintError(Exception):
    """Base of every error the bot explains to a person."""


class ConfigError(SisMaintError):
    """The configuration is missing or invalid; the message names the key."""


class InputError(SisMaintError):
    """What someone typed or picked cannot be used.

    ``field`` names the part of a request it is about (``environments``, ``start``, ``end``,
    ``duration``, ``reason``, ``ticket``), so a form can show the message on that field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FieldErrors(InputError):
    """Several fields of a form cannot be used at once.

    ``fields`` maps each field (as in ``InputError.field``) to its message, in the form's order;
    the first one is also this error's own message and field.
    """

    def __init__(self, fields: Mapping[str, str]) -> None:
        first, message = next(iter(fields.items()))
        super().__init__(message, field=first)
        self.fields = dict(fields)


class UnknownCommand(InputError):
    """The subcommand is not one the bot knows; the message names the closest commands."""


class PermissionDenied(SisMaintError):
    """Someone asked for something they may not do."""


class NotFound(SisMaintError):
    """A window that does not exist."""


class Conflict(SisMaintError):
    """The ledger has moved on: already decided, not active, changed by someone else."""


class IllegalTransition(Conflict):
    """A window state change the state machine does not allow."""
