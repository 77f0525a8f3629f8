"""People's names from Slack (for mail, where a mention means nothing), remembered per process."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.actors import api_token_of

log = logging.getLogger(__name__)


class SlackPeople:
    """``users.info`` -> "Real Name (@handle)"; the user id when Slack cannot say."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def name(self, user_id: str) -> str:
        """A name a mail reader understands."""
        token = api_token_of(user_id)
        if token is not None:
            return f"API token {token}"
        with self._lock:
            known = self._names.get(user_id)
        if known is not None:
            return known
        try:
            user = self._client.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info %s: %s", user_id, exc.response.get("error"))
            return f"Slack user {user_id}"
        except Exception as exc:  # a name is a nicety; the notice must still go out
            log.warning("users.info %s: %s", user_id, type(exc).__name__)
            return f"Slack user {user_id}"
        profile = user.get("profile") or {}
        real = profile.get("real_name") or user.get("real_name") or ""
        handle = profile.get("display_name") or user.get("name") or ""
        found = f"{real} (@{handle})" if real and handle else real or handle or user_id
        with self._lock:
            self._names[user_id] = found
        return found
