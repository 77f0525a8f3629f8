"""Publishing the App Home: when someone opens it, and again after every change."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.clock import Clock
from bot.loops import BackgroundLoop
from bot.services.status import StatusService
from bot.slack.home_view import render_home

log = logging.getLogger(__name__)
KEEP_VIEWERS = 3600.0  # re-publish for people who opened the tab within the last hour
LIVE_MAX_AGE = 30.0  # seconds a Coursedog read may be reused on the tab
# With no change to publish the thread still wakes this often, so its heartbeat shows it alive.
IDLE_WAKE = 60.0


class HomePublisher(BackgroundLoop):
    """Keeps the App Home of recent viewers current."""

    thread_name = "sis-maint-home"

    def __init__(
        self,
        client: WebClient,
        status: StatusService,
        clock: Clock,
        labels: Mapping[str, str],
        *,
        drivers: Mapping[str, str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``drivers``: how each environment is switched, as the tab shows it."""
        self._drivers = dict(drivers or {})
        super().__init__("home", IDLE_WAKE)
        self._client = client
        self._status = status
        self._clock = clock
        self._labels = labels
        self._monotonic = monotonic
        self._viewers: dict[str, float] = {}
        self._lock = threading.Lock()
        self._dirty = False
        self._busy = False

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no refresh is pending or running."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._dirty and not self._busy, timeout)

    def opened(self, user_id: str) -> None:
        """Someone opened the tab: remember them and publish a fresh view."""
        with self._lock:
            self._viewers[user_id] = self._monotonic()
        self.publish(user_id)

    def publish(self, user_id: str, notice: str | None = None) -> None:
        """Publish the tab for one person; failures are logged, never raised."""
        try:
            view = render_home(
                statuses=self._status.environments(list(self._labels), max_age=LIVE_MAX_AGE),
                labels=self._labels,
                drivers=self._drivers,
                active=self._status.windows("active", limit=15),
                upcoming=self._status.windows("upcoming", limit=15),
                recent=self._status.windows("recent", limit=5),
                now=self._clock.now(),
                notice=notice,
            )
            self._client.views_publish(user_id=user_id, view=view)
        except Exception:  # the tab is a view: a failure must not break a change
            log.warning("publishing the App Home for %s failed", user_id, exc_info=True)

    def refresh_viewers(self) -> None:
        """After a change: have the background thread publish again (several changes, once)."""
        with self._cond:
            self._dirty = True
            self._cond.notify_all()

    def _step(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._dirty or self._stopping, self.interval)
            if self._stopping or not self._dirty:
                return
            self._dirty, self._busy = False, True
        try:
            self._status.forget()  # the change may have switched merges: read again
            self._publish_viewers()
        except Exception:
            with self._cond:  # publish again once the backoff allows
                self._dirty = True
            raise
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _publish_viewers(self) -> None:
        cutoff = self._monotonic() - KEEP_VIEWERS
        with self._lock:
            self._viewers = {u: t for u, t in self._viewers.items() if t >= cutoff}
            viewers = list(self._viewers)
        for user_id in viewers:
            self.publish(user_id)

    def teller(self, user_id: str) -> Respond:
        """Something shaped like ``respond`` that answers a click on the tab on the tab itself."""

        def tell(text: str = "", **_: Any) -> None:
            self.publish(user_id, notice=text)

        return cast(Respond, tell)
