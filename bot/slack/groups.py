"""User group membership from Slack, cached briefly (approvers may be listed as groups)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.access import GroupLookupError


class SlackGroups:
    """Looks up ``usergroups.users.list``; answers from memory for ``ttl`` seconds."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, group_id: str) -> frozenset[str]:
        """User ids in the group; GroupLookupError says why they could not be read."""
        with self._lock:
            hit = self._cache.get(group_id)
            if hit is not None and self._clock() - hit[0] < self._ttl:
                return hit[1]
        try:
            reply = self._client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            raise GroupLookupError(f"user group {group_id} could not be read: {error}") from exc
        except Exception as exc:  # transport failures get the same answer
            name = type(exc).__name__
            raise GroupLookupError(f"user group {group_id} could not be read: {name}") from exc
        users = frozenset(str(u) for u in reply.get("users") or [])
        with self._lock:
            self._cache[group_id] = (self._clock(), users)
        return users
