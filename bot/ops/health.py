"""GET /healthz: is the ledger reachable, is every background loop completing passes, is
Socket Mode connected."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.loops import Heartbeat, Pulse

log = logging.getLogger(__name__)
# A loop is stale when its last completed pass is older than this many of its intervals.
STALE_PASSES = 3


@dataclass(frozen=True)
class Check:
    """One check's result; ``detail`` is safe to show anyone (no hosts, no credentials)."""

    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """Every check's result."""

    checks: dict[str, Check]

    @property
    def healthy(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks.values())

    @property
    def failing(self) -> list[str]:
        """The names of the checks that failed."""
        return [name for name, check in self.checks.items() if not check.ok]

    def as_json(self) -> dict[str, Any]:
        """The body of GET /healthz."""
        return {
            "status": "ok" if self.healthy else "failing",
            "failing": self.failing,
            "checks": {
                name: {"ok": check.ok, "detail": check.detail, **check.data}
                for name, check in self.checks.items()
            },
        }


class Health:
    """The checks of one running bot."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        loops: Iterable[Heartbeat],
        stale_floor: float,
        database_timeout: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._loops = loops
        self._stale_floor = stale_floor
        self._database_timeout = database_timeout
        # Set when serving over Socket Mode: says whether the WebSocket is connected.
        self.socket_mode: Callable[[], bool] | None = None

    def report(self) -> Report:
        """Run every check."""
        checks = {"database": self._database()}
        for beat in self._loops:
            if beat.interval is not None:  # a loop that works only on demand has no pace to keep
                checks[beat.name] = loop_check(beat.read(), self._stale_floor)
        if self.socket_mode is not None:
            connected = self._socket_mode_connected(self.socket_mode)
            checks["socket_mode"] = Check(
                connected, "connected" if connected else "not connected to Slack"
            )
        return Report(checks)

    def _database(self) -> Check:
        outcome: list[Check] = []

        def probe() -> None:
            try:
                with self._sessions.begin() as session:
                    session.execute(text("SELECT 1"))
            except Exception as exc:  # any failure means the same: unreachable
                log.warning("health: the database cannot be reached: %s", exc)
                outcome.append(Check(False, f"cannot be reached ({type(exc).__name__})"))
            else:
                outcome.append(Check(True, "reachable"))

        # A server that does not answer must not hang the probe (and the load balancer).
        worker = threading.Thread(target=probe, name="sis-maint-health-db", daemon=True)
        worker.start()
        worker.join(self._database_timeout)
        if not outcome:
            return Check(False, f"no answer within {self._database_timeout:g}s")
        return outcome[0]

    @staticmethod
    def _socket_mode_connected(probe: Callable[[], bool]) -> bool:
        try:
            return bool(probe())
        except Exception:
            log.warning("health: cannot tell whether Socket Mode is connected", exc_info=True)
            return False


def stale_after(interval: float, floor: float) -> float:
    """Seconds without a completed pass after which a loop counts as stuck or dead."""
    return max(floor, STALE_PASSES * interval)


def loop_check(pulse: Pulse, floor: float) -> Check:
    """A loop passes while its last completed pass (or, before the first, its start) is
    recent: within a few of its intervals, and never less than ``floor`` seconds."""
    assert pulse.interval is not None
    limit = stale_after(pulse.interval, floor)
    data: dict[str, Any] = {}
    failing = ""
    if pulse.failing:
        data["failed_passes_in_a_row"] = pulse.failing
        passes = "pass" if pulse.failing == 1 else f"{pulse.failing} passes"
        failing = f"; the last {passes} failed ({pulse.last_error})"
    age = pulse.last_pass_ago
    if age is None:
        since = pulse.started_ago
        if since is None:
            return Check(False, "has not completed a pass yet" + failing, data)
        if since > limit:
            detail = f"no pass in the {since:.0f}s since it started (limit {limit:g}s)"
            return Check(False, detail + failing, data)
        return Check(True, "starting" + failing, data)
    data["last_pass_seconds_ago"] = round(age, 1)
    if age > limit:
        return Check(False, f"no pass for {age:.0f}s (limit {limit:g}s)" + failing, data)
    return Check(True, "looping" + failing, data)
