"""People as Slack knows them: their names (for mail, where a mention means nothing) and their
time zones (to tell whether a card should add the environment's own time). One ``users.info``
per person answers both; what it says is remembered for an hour, and a failed look-up for as
long, so a card redrawn often does not ask again each time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.actors import api_token_of

log = logging.getLogger(__name__)
REMEMBER_SECONDS = 3600.0


class SlackPeople:
    """``users.info`` -> "Real Name (@handle)" and the person's zone; None when Slack cannot
    say, and for an API caller (bot.domain.actors), whom Slack does not know."""

    def __init__(self, client: WebClient, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._monotonic = monotonic
        # User id -> (when it was looked up, the user record; None if the look-up failed).
        self._users: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def name(self, user_id: str) -> str:
        """A name a mail reader understands."""
        token = api_token_of(user_id)
        if token is not None:
            return f"API token {token}"
        user = self._user(user_id)
        if user is None:
            return f"Slack user {user_id}"
        profile = user.get("profile") or {}
        real = profile.get("real_name") or user.get("real_name") or ""
        handle = profile.get("display_name") or user.get("name") or ""
        return f"{real} (@{handle})" if real and handle else real or handle or user_id

    def zone(self, user_id: str) -> str | None:
        """The person's time zone as Slack has it (``America/Chicago``), looked up if need be;
        None when Slack does not say or names a zone this machine does not know."""
        return _zone_of(self._user(user_id))

    def known_zone(self, user_id: str) -> str | None:
        """The person's zone if it was looked up already, without asking Slack (for answers
        that must not wait)."""
        with self._lock:
            remembered = self._users.get(user_id)
        if remembered is None or self._monotonic() - remembered[0] > REMEMBER_SECONDS:
            return None
        return _zone_of(remembered[1])

    def _user(self, user_id: str) -> dict[str, Any] | None:
        if api_token_of(user_id) is not None:  # an API caller is nobody Slack knows
            return None
        now = self._monotonic()
        with self._lock:
            remembered = self._users.get(user_id)
        if remembered is not None and now - remembered[0] <= REMEMBER_SECONDS:
            return remembered[1]
        user: dict[str, Any] | None
        try:
            user = dict(self._client.users_info(user=user_id).get("user") or {})
        except SlackApiError as exc:
            log.warning("users.info %s: %s", user_id, exc.response.get("error"))
            user = None
        except Exception as exc:  # a name or a zone is a nicety; what needs it must go on
            log.warning("users.info %s: %s", user_id, type(exc).__name__)
            user = None
        with self._lock:
            self._users[user_id] = (now, user)
        return user


def _zone_of(user: dict[str, Any] | None) -> str | None:
    zone = (user or {}).get("tz")
    if not isinstance(zone, str) or not zone:
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return zone
