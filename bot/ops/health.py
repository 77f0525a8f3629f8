"""GET /healthz: is the ledger reachable, is the scheduler looping, is Socket Mode connected."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


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
        scheduler_age: Callable[[], float | None],
        scheduler_stale_after: float,
        database_timeout: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._scheduler_age = scheduler_age
        self._stale_after = scheduler_stale_after
        self._database_timeout = database_timeout
        # Set when serving over Socket Mode: says whether the WebSocket is connected.
        self.socket_mode: Callable[[], bool] | None = None

    def report(self) -> Report:
        """Run every check."""
        checks = {"database": self._database(), "scheduler": self._scheduler()}
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

    def _scheduler(self) -> Check:
        age = self._scheduler_age()
        if age is None:
            return Check(False, "has not completed a pass yet")
        data = {"last_pass_seconds_ago": round(age, 1)}
        if age > self._stale_after:
            return Check(False, f"no pass for {age:.0f}s (limit {self._stale_after:g}s)", data)
        return Check(True, "looping", data)

    @staticmethod
    def _socket_mode_connected(probe: Callable[[], bool]) -> bool:
        try:
            return bool(probe())
        except Exception:
            log.warning("health: cannot tell whether Socket Mode is connected", exc_info=True)
            return False


def scheduler_age(last_pass: Callable[[], float | None]) -> Callable[[], float | None]:
    """Seconds since the scheduler's last pass, from its monotonic timestamp."""

    def age() -> float | None:
        at = last_pass()
        return None if at is None else max(0.0, time.monotonic() - at)

    return age
