"""Publishing the App Home: each person's own view, when they open it and after every change.

The view differs by viewer (only the buttons they may press), so a refresh reads the board
once (bot.services.home_board) and renders it for each recent viewer. A refresh follows a
change made here at once (``refresh_viewers``), and any other change to the ledger (a
blackout period, a series, a change on another replica) within ``IDLE_WAKE``: the thread
looks where the audit trail stands each time it wakes. Its cost is bounded: at most
``MAX_VIEWERS`` people (those who opened the tab most recently, within the hour), one
reading of the ledger and Coursedog per refresh however many changes it covers, a board
reused for a few seconds when many open the tab at once and nothing changed, and no
``views.publish`` for a viewer whose view is the one last published to them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import SisMaintError
from bot.loops import BackgroundLoop
from bot.services.home_board import HomeBoard
from bot.slack.forms import render_request_modal
from bot.slack.home_view import render_home

log = logging.getLogger(__name__)
KEEP_VIEWERS = 3600.0  # re-publish for people who opened the tab within the last hour
MAX_VIEWERS = 200  # of those, at most this many, the most recent
LIVE_MAX_AGE = 30.0  # seconds a Coursedog read may be reused on the tab
BOARD_REUSE = 5.0  # seconds a board may serve people opening the tab, when nothing changed
# The thread wakes this often to look for changes made elsewhere (its heartbeat shows it
# alive), and publishes again every REFRESH_EVERY in any case: what the passing of time makes
# true (a blackout period beginning, a window overdue) reaches the tab then.
IDLE_WAKE = 15.0
REFRESH_EVERY = 300.0


class FormNotOpened(SisMaintError):
    """Slack would not open the request form (the trigger of the click expired)."""


class Boards(Protocol):
    """Where the tab's content comes from (bot.services.home_board.HomeBoards)."""

    def read(self, *, max_age: float) -> HomeBoard:
        """Everything the tab shows."""
        ...

    def mark(self) -> int | None:
        """Where the audit trail stands (it moves with every change)."""
        ...

    def forget(self) -> None:
        """Read Coursedog again next time (something changed)."""
        ...


class HomeMeter(Protocol):
    """Counts what the refresher does (bot.ops.metrics.Metrics)."""

    def home_published(self, outcome: str) -> None:
        """One viewer's tab: ``published``, ``unchanged`` (not sent again) or ``failed``."""
        ...

    def home_viewers(self, count: int) -> None:
        """How many people the refresher keeps current."""
        ...


class _NoMeter:
    def home_published(self, outcome: str) -> None:
        pass

    def home_viewers(self, count: int) -> None:
        pass


class HomePublisher(BackgroundLoop):
    """Keeps the App Home of recent viewers current, each with their own view."""

    thread_name = "sis-maint-home"

    def __init__(
        self,
        client: WebClient,
        boards: Boards,
        labels: Mapping[str, str],
        *,
        drivers: Mapping[str, str] | None = None,
        groups: Mapping[str, Sequence[str]] | None = None,
        meter: HomeMeter | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        max_viewers: int = MAX_VIEWERS,
        wake: float = IDLE_WAKE,
    ) -> None:
        """``drivers``: how each environment is switched, as the tab shows it; ``groups``: the
        groups of environments its form offers."""
        super().__init__("home", wake)
        self._client = client
        self._boards = boards
        self._labels = labels
        self._drivers = dict(drivers or {})
        self._groups = dict(groups or {})
        self._meter = meter or _NoMeter()
        self._monotonic = monotonic
        self._max_viewers = max_viewers
        self._lock = threading.Lock()
        self._viewers: dict[str, float] = {}  # oldest opening first
        self._shown: dict[str, str] = {}  # viewer -> digest of the view last published
        # The board last read, when, and how many changes had been announced then.
        self._board: tuple[float, int, HomeBoard] | None = None
        self._changes = 0
        self._last_refresh = monotonic()
        self._dirty = False
        self._busy = False

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no refresh is pending or running."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._dirty and not self._busy, timeout)

    def opened(self, user_id: str) -> None:
        """Someone opened the tab: remember them and publish their view, fresh."""
        with self._lock:
            self._viewers.pop(user_id, None)
            self._viewers[user_id] = self._monotonic()
            while len(self._viewers) > self._max_viewers:
                dropped = next(iter(self._viewers))
                del self._viewers[dropped]
                self._shown.pop(dropped, None)
            count = len(self._viewers)
        self._meter.home_viewers(count)
        # Always sent: another replica may have published this person's tab since.
        self.publish(user_id, force=True)

    def publish(self, user_id: str, notice: str | None = None, *, force: bool = False) -> None:
        """Publish one person's tab; failures are logged and counted, never raised."""
        try:
            self._publish(user_id, self._recent_board(), notice, force=force or bool(notice))
        except Exception:  # the tab is a view: a failure must not break a change
            self._meter.home_published("failed")
            log.warning("publishing the App Home for %s failed", user_id, exc_info=True)

    def refresh_viewers(self) -> None:
        """After a change: have the background thread publish again (several changes, once)."""
        with self._lock:
            self._changes += 1
        with self._cond:
            self._dirty = True
            self._cond.notify_all()

    def open_form(self, trigger_id: str) -> None:
        """Open the request form (as a bare ``/sis-maint`` does) for a click on the tab."""
        try:
            self._client.views_open(
                trigger_id=trigger_id, view=render_request_modal(self._labels, groups=self._groups)
            )
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            raise FormNotOpened(
                f"The request form could not be opened (Slack answered `{error}`). Press "
                "*New request* again, or type `/sis-maint`."
            ) from exc

    def teller(self, user_id: str) -> Respond:
        """Something shaped like ``respond`` that answers a click on the tab on the tab itself."""

        def tell(text: str = "", **_: Any) -> None:
            self.publish(user_id, notice=text)

        return cast(Respond, tell)

    # -- the background thread -----------------------------------------------------------

    def _step(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._dirty or self._stopping, self.interval)
            if self._stopping:
                return
            dirty, self._dirty, self._busy = self._dirty, False, True
        try:
            if dirty or self._changed_elsewhere():
                self._refresh()
        except Exception:
            with self._cond:  # publish again once the backoff allows
                self._dirty = True
            raise
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _changed_elsewhere(self) -> bool:
        """With someone to keep current: whether the ledger moved since the last board was
        read, or it is time to publish again anyway."""
        with self._lock:
            if not self._viewers:
                return False
            board = self._board
        if self._monotonic() - self._last_refresh >= REFRESH_EVERY or board is None:
            return True
        return self._boards.mark() != board[2].mark

    def _refresh(self) -> None:
        self._boards.forget()  # the change may have switched merges: read again
        cutoff = self._monotonic() - KEEP_VIEWERS
        with self._lock:
            self._viewers = {u: t for u, t in self._viewers.items() if t >= cutoff}
            self._shown = {u: d for u, d in self._shown.items() if u in self._viewers}
            viewers = list(self._viewers)
        self._meter.home_viewers(len(viewers))
        self._last_refresh = self._monotonic()
        if not viewers:
            return
        board = self._recent_board(fresh=True)
        for user_id in viewers:
            try:
                self._publish(user_id, board, None, force=False)
            except Exception:  # one person's tab; the others still get theirs
                self._meter.home_published("failed")
                log.warning("publishing the App Home for %s failed", user_id, exc_info=True)

    # -- helpers -------------------------------------------------------------------------

    def _recent_board(self, *, fresh: bool = False) -> HomeBoard:
        """A board read within ``BOARD_REUSE`` seconds with nothing changed since (no change
        announced, the audit trail where it was), or a new one."""
        now = self._monotonic()
        with self._lock:
            changes, cached = self._changes, self._board
        if (
            not fresh
            and cached is not None
            and cached[1] == changes
            and now - cached[0] < BOARD_REUSE
            and self._boards.mark() == cached[2].mark
        ):
            return cached[2]
        board = self._boards.read(max_age=LIVE_MAX_AGE)
        with self._lock:
            if self._changes == changes:  # not one read before a change announced meanwhile
                self._board = (now, changes, board)
        return board

    def _publish(self, user_id: str, board: HomeBoard, notice: str | None, *, force: bool) -> None:
        view = render_home(
            board, user_id, labels=self._labels, drivers=self._drivers, notice=notice
        )
        digest = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
        with self._lock:
            unchanged = self._shown.get(user_id) == digest
        if unchanged and not force:
            self._meter.home_published("unchanged")
            return
        with self._lock:
            self._shown.pop(user_id, None)  # unknown until Slack has it
        self._client.views_publish(user_id=user_id, view=view)
        with self._lock:
            if user_id in self._viewers:
                self._shown[user_id] = digest
        self._meter.home_published("published")
