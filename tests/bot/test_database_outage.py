"""The database goes away mid-window for longer than a pass, and comes back: no restart needed.

PostgreSQL is reached through a proxy the test cuts (every connection closed, new ones refused),
so the shared server keeps running for everyone else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings, parse_settings
from bot.slack import ids
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot, settings_document
from tests.tcp_proxy import proxied

# A pass every 5 s (the least the settings allow), so a loop is stale after 15 s without one.
FAST = {
    "reconcile_interval_seconds": 5,
    "scheduler_poll_seconds": 0.2,
    "watchdog_interval_seconds": 3600,
    "loop_stale_seconds": 1,
}


def fast_settings(base_url: str) -> Settings:
    return parse_settings(settings_document(base_url, **FAST))


def health(bot: Bot) -> tuple[int, dict[str, Any]]:
    response = bot.get("/healthz")
    return response.status_code, response.json()


def naming(bot: Bot, check: str) -> dict[str, Any] | None:
    """The body of /healthz if it is 503 and names ``check`` among the failing."""
    status, body = health(bot)
    return body if status == 503 and check in body["failing"] else None


def loop_failures(bot: Bot, loop: str) -> float:
    text = bot.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "sis_maint_loop_failures_total" and sample.labels == {"loop": loop}:
                return sample.value
    return 0.0


def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` (the loops run on their own here) until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:g}s waiting for {what}")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_window_that_ends_while_the_database_is_away_is_restored_once_it_is_back(
    database_url: str,
) -> None:
    clock = ManualClock()
    with (
        proxied(database_url) as (proxy, url),
        running_bot(url, clock=clock, settings_factory=fast_settings) as bot,
    ):
        runtime = bot.runtime
        runtime.scheduler.start()  # the loop itself, not a test's tick, runs the end
        bot.command(REQUESTER, "start prod 2h Banner patch")
        bot.wait_card(1)
        bot.click(APPROVER, ids.APPROVE, "1")
        prod = bot.sim.school("state_u_prod")
        assert (prod.nightly, prod.realtime) == (False, False)
        assert "switched off and verified" in "\n".join(bot.thread(1))
        eventually(lambda: health(bot)[0] == 200, 10, "/healthz to say 200")
        assert loop_failures(bot, "worker") == 0

        proxy.cut()
        clock.advance(timedelta(hours=2, minutes=1))  # the end falls due during the outage
        body = eventually(lambda: naming(bot, "worker"), 40, "/healthz to name the worker")
        worker = body["checks"]["worker"]
        assert worker["ok"] is False and worker["detail"].startswith("no pass for")
        assert "failed (OperationalError)" in worker["detail"]
        assert worker["failed_passes_in_a_row"] >= 1
        assert {"database", "scheduler"} <= set(body["failing"])
        assert loop_failures(bot, "worker") >= 1 and loop_failures(bot, "scheduler") >= 1
        assert (prod.nightly, prod.realtime) == (False, False)  # nothing can be done meanwhile
        assert proxy.refused > 0

        proxy.mend()
        assert bot.slack.wait_for(
            lambda: "restored and verified" in "\n".join(bot.thread(1)), timeout=30
        ), bot.thread(1)
        assert (prod.nightly, prod.realtime) == (True, True)  # the baseline, as before
        eventually(lambda: health(bot)[0] == 200, 30, "/healthz to say 200 again")
        assert bot.settle()
        assert runtime.windows.get(1).state == "ended"
        # The same process, its loops still running: nothing was restarted.
        assert bot.runtime is runtime
        assert runtime.worker.is_alive() and runtime.scheduler.is_alive()
