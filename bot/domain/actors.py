"""Who did something: a Slack member (U…/W…), sis-maint itself, or a script calling the HTTP
API with a bearer token (``api:<token name>``, see docs/api.md)."""

from __future__ import annotations

API_PREFIX = "api:"


def api_actor(token_name: str) -> str:
    """The actor recorded for what a token's caller does: ``api:servicenow``."""
    return f"{API_PREFIX}{token_name}"


def api_token_of(actor: str) -> str | None:
    """The token's name when ``actor`` is an API caller, else None."""
    return actor[len(API_PREFIX) :] if actor.startswith(API_PREFIX) else None


def is_api(actor: str) -> bool:
    """Whether ``actor`` is an API caller rather than a Slack member or sis-maint."""
    return actor.startswith(API_PREFIX)
