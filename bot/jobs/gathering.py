"""The reports of a pass over many environments, told together as soon as each has its
outcome: one summary per window instead of a message per environment."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from bot.services.reports import Publish, Report

log = logging.getLogger(__name__)


class Gathering:
    """Holds the reports of a pass's environments until every one of them has published its
    first (its outcome) or finished without one, then publishes them in one batch; what comes
    after that is published at once."""

    def __init__(self, environments: Iterable[str], publish: Publish) -> None:
        self._waiting = set(environments)
        self._publish = publish
        self._held: list[Report] = []
        self._released = False
        self._lock = threading.Lock()

    def publish_for(self, env: str) -> Publish:
        """What ``env``'s pass publishes through (see Reconciler.reconcile)."""

        def publish(reports: list[Report]) -> None:
            self._add(env, reports)

        return publish

    def done(self, env: str) -> None:
        """``env``'s pass is over (it may have published nothing)."""
        batch = self._arrived(env, [])
        if batch:
            try:
                self._publish(batch)
            except Exception:  # committed and owed: the next pass offers them again
                log.exception("posting %d report(s) failed; they stay owed", len(batch))

    def _add(self, env: str, reports: list[Report]) -> None:
        with self._lock:
            late = self._released
        if late:
            self._publish(reports)
            return
        batch = self._arrived(env, reports)
        if batch:
            self._publish(batch)

    def _arrived(self, env: str, reports: list[Report]) -> list[Report]:
        """Keep ``reports``; the whole batch when ``env`` was the last one waited for."""
        with self._lock:
            if self._released:
                return list(reports)
            self._held.extend(reports)
            self._waiting.discard(env)
            if self._waiting:
                return []
            self._released = True
            batch, self._held = self._held, []
            return batch
