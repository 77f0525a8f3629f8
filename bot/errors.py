"""Typed errors. Their text is what the person in Slack reads, so it is short and specific."""

from __future__ import annotations


class SisMaintError(Exception):
    """Base of every error the bot explains to a person."""


class ConfigError(SisMaintError):
    """The configuration is missing or invalid; the message names the key."""


class InputError(SisMaintError):
    """What someone typed or picked cannot be used."""


class UnknownCommand(InputError):
    """The subcommand is not one the bot knows; the help text follows."""


class PermissionDenied(SisMaintError):
    """Someone asked for something they may not do."""


class NotFound(SisMaintError):
    """A window that does not exist."""


class Conflict(SisMaintError):
    """The ledger has moved on: already decided, not active, changed by someone else."""


class IllegalTransition(Conflict):
    """A window state change the state machine does not allow."""
