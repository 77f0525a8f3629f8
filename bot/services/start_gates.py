"""Switch-offs held, briefly, until the thread is being told what was running at the start.

A window that starts at its approval has each environment's merge history read before it is
switched off, and the thread says which merge is still running before it says "switched off"
(bot.services.running_merges). Reading the history first and waking the worker after would put
the worker's own start (its lease, its plan) behind that read; instead the worker is woken at
once and the approval holds its environments here: a pass takes its lease and plan, then waits
at the gate before it writes anything, until the approval's message is composed and on its way
(under the thread's lock, which keeps the worker's reports behind it). The wait is bounded, so
a merge history or a Slack that does not answer never keeps merges on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


class StartGates:
    """Environments whose switch-off waits for the thread to be told of running merges."""

    def __init__(self, bound_seconds: float) -> None:
        self._bound = bound_seconds
        self._lock = threading.Lock()
        self._held: dict[str, threading.Event] = {}

    def hold(self, environments: Sequence[str]) -> Callable[[], None]:
        """Hold ``environments`` until the returned function is called (call it once the
        thread has been told, or the telling failed)."""
        gate = threading.Event()
        with self._lock:
            for env in environments:
                self._held[env] = gate

        def open_gate() -> None:
            with self._lock:
                for env in environments:
                    if self._held.get(env) is gate:
                        del self._held[env]
            gate.set()

        return open_gate

    def wait(self, environment: str) -> None:
        """Before writing to ``environment``: wait while a start holds it, within the bound."""
        with self._lock:
            gate = self._held.get(environment)
        if gate is not None and not gate.wait(self._bound):
            log.warning(
                "switching %s without waiting longer for the thread to be told what runs",
                environment,
            )
