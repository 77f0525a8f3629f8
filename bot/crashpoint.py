"""A hook for crash tests: ``SIS_MAINT_CRASH_AT=<point>`` kills the process at that point.

Inert unless the variable is set. ``<point>@<n>`` kills it the n-th time the point is
reached (default: the first). The kill is SIGKILL, so nothing is flushed, closed or rolled
back in an orderly way: exactly what a power cut or the OOM killer would leave behind.

Points, in the order a window goes through them:
``card`` (a request and its claim on posting the approval card are committed; the card is not
posted yet), ``claimed`` (due actions were leased; ``claimed:<kind>`` when one of that kind
was), ``intent`` (the intent row of a Coursedog write is committed), ``called`` (Coursedog
answered the write), ``outcome`` (the outcome is recorded in the ledger), ``posted`` (the
report about it was posted to Slack), ``webhook`` (a webhook delivery was claimed; nothing sent),
``webhook_sent`` (the endpoint took it; not yet recorded).
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "SIS_MAINT_CRASH_AT"
POINTS = ("card", "claimed", "intent", "called", "outcome", "posted", "webhook", "webhook_sent")

_lock = threading.Lock()
_seen: dict[str, int] = {}


def reached(point: str) -> None:
    """Die here if the crash hook names this point (and this is the named occurrence)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != point:
        return
    with _lock:
        _seen[point] = _seen.get(point, 0) + 1
        count = _seen[point]
    if count == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
