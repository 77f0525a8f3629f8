"""A Hypothesis state machine drives the running bot and checks the invariants after each step.

Random requests (now or scheduled), approvals and denials (by the right and the wrong people),
extends, ends, cancels, clock moves and Coursedog faults. After every step the ledger, the
simulator and Slack must satisfy the design's invariants (tests/invariants.py) and: a switch-off
is reported only when verified, a failed window says it needs a person. At the end of each run
every window runs out and every environment must be back at exactly its starting schedule.

SIS_MAINT_STATEFUL_EXAMPLES sets how many runs (default 15 per database); the steps per run are
SIS_MAINT_STATEFUL_STEPS (default 15).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from bot.slack import ids
from coursedog.simulator import SchoolState
from coursedog.simulator_faults import Fault
from storage import due
from storage.models import AuditEvent, Window
from tests import invariants
from tests.harness import APPROVER, APPROVER_2, REQUESTER, STRANGER, Bot, ManualClock, running_bot
from tests.tamper import empty_ledger

EXAMPLES = int(os.environ.get("SIS_MAINT_STATEFUL_EXAMPLES", "15"))
STEPS = int(os.environ.get("SIS_MAINT_STATEFUL_STEPS", "15"))
T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/New_York")
START = {
    "state_u_prod": (True, True),
    "state_u_staging": (True, False),
    "state_u_sandbox": (False, False),
}
SCHOOLS = {"prod": "state_u_prod", "staging": "state_u_staging", "sandbox": "state_u_sandbox"}
SCHEDULE = "integrationSchedule"
OPEN = ("requested", "approved", "active", "failed")
FAULTS = {
    "500 on write": Fault(kind="status", method="PUT", path_contains=SCHEDULE, status=500),
    "503 on read": Fault(kind="status", method="GET", path_contains=SCHEDULE, status=503),
    "write dropped": Fault(kind="drop_before_apply", method="PUT", path_contains=SCHEDULE),
    "answer lost": Fault(kind="timeout_after_apply", method="PUT", path_contains=SCHEDULE, hold=0),
    "rate limited": Fault(kind="status", path_contains=SCHEDULE, status=429, retry_after="0"),
    "asked to wait a day": Fault(kind="status", status=429, retry_after="86400"),
}
RULES: Counter[str] = Counter()
# Counted over the whole run and printed at its end (pytest -s), to see what a run covered.
TALLY = {"runs": 0, "steps": 0, "faults": 0, "windows": 0, "held": 0, "verified_writes": 0}


class ResettableClock(ManualClock):
    """The harness clock, put back to the start for each run."""

    def reset(self) -> None:
        with self._lock:
            self._now = T0


class Operations(RuleBasedStateMachine):
    """What people and Coursedog do to the bot; the invariants are the oracle."""

    bot: Bot
    clock: ResettableClock
    windows = Bundle("windows")

    def __init__(self) -> None:
        super().__init__()
        reset(self.bot, self.clock)
        TALLY["runs"] += 1

    def _step(self, name: str) -> None:
        TALLY["steps"] += 1
        RULES[name] += 1

    # -- people ---------------------------------------------------------------------------

    @rule(
        target=windows,
        envs=st.lists(st.sampled_from(sorted(SCHOOLS)), min_size=1, max_size=2, unique=True),
        hours=st.integers(1, 6),
        starts_in=st.one_of(st.none(), st.integers(1, 30)),
        decided_by=st.sampled_from([APPROVER, APPROVER_2, REQUESTER, None]),
    )
    def request(
        self, envs: list[str], hours: int, starts_in: int | None, decided_by: str | None
    ) -> int:
        """A request, and (mostly) an approval right away: by an approver or, wrongly, by
        the requester; None leaves it for later rules, or for it to expire."""
        self._step("request")
        names = ",".join(envs)
        if starts_in is None:
            text = f"start {names} {hours}h"
        else:
            local = (self.clock.now() + timedelta(hours=starts_in)).astimezone(ZONE)
            text = f"schedule {names} {local:%Y-%m-%d %H:%M} {hours}h"
        reply = str(self.bot.command(REQUESTER, text).json().get("text", ""))
        found = re.search(r"MW-(\d+)", reply)
        assert found is not None, reply
        number = int(found.group(1))
        self.bot.wait_card(number)
        if decided_by is not None:
            self.bot.click(decided_by, ids.APPROVE, str(number), self.bot.card(number))
        return number

    @rule(w=windows, who=st.sampled_from([APPROVER, APPROVER, APPROVER_2, REQUESTER, STRANGER]))
    def approve(self, w: int, who: str) -> None:
        self._step("approve")
        self.bot.click(who, ids.APPROVE, str(w), self.bot.card(w))

    @rule(w=windows)
    def deny(self, w: int) -> None:
        self._step("deny")
        self.bot.deny(APPROVER_2, w, "not now", self.bot.card(w))

    @rule(w=windows, by=st.sampled_from(["30m", "1h", "3h"]))
    def extend(self, w: int, by: str) -> None:
        self._step("extend")
        self.bot.command(REQUESTER, f"extend MW-{w} {by}")

    @rule(w=windows, who=st.sampled_from([REQUESTER, APPROVER, STRANGER]))
    def end(self, w: int, who: str) -> None:
        self._step("end")
        self.bot.command(who, f"end MW-{w}")

    @rule(w=windows)
    def cancel(self, w: int) -> None:
        self._step("cancel")
        self.bot.command(REQUESTER, f"cancel MW-{w}")

    @initialize(
        target=windows,
        envs=st.lists(st.sampled_from(sorted(SCHOOLS)), min_size=1, max_size=2, unique=True),
        starts_in=st.one_of(st.none(), st.integers(1, 3)),
    )
    def first_window(self, envs: list[str], starts_in: int | None) -> int:
        """Every run begins with an approved window, so there is always something to break."""
        return self.request(envs, 2, starts_in, APPROVER)

    # -- time and Coursedog -----------------------------------------------------------------

    @rule(minutes=st.sampled_from([5, 20, 60, 180]))
    def time_passes(self, minutes: int) -> None:
        """The bot is running: every due action runs at its time."""
        self._step("time_passes")
        target = self.clock.now() + timedelta(minutes=minutes)
        for _ in range(100):
            with self.bot.runtime.sessions.begin() as s:
                upcoming = due.next_due_at(s)
            if upcoming is None or upcoming > target:
                break
            if upcoming > self.clock.now():
                self.clock.advance(upcoming - self.clock.now())
            self.bot.tick()
        self.clock.advance(target - self.clock.now())
        self.bot.tick()

    @rule(hours=st.sampled_from([2, 8, 30]))
    def bot_down_for(self, hours: int) -> None:
        """The bot was not running: everything overdue runs at once when it is back."""
        self._step("bot_down_for")
        self.clock.advance(timedelta(hours=hours))
        self.bot.restart()
        self.bot.tick()

    @rule(fault=st.sampled_from(sorted(FAULTS)), times=st.integers(1, 3))
    def coursedog_fails(self, fault: str, times: int) -> None:
        self._step("coursedog_fails")
        TALLY["faults"] += 1
        self.bot.sim.inject(dataclasses.replace(FAULTS[fault], times=times))

    @rule()
    def session_revoked(self) -> None:
        self._step("session_revoked")
        TALLY["faults"] += 1
        self.bot.sim.revoke_sessions()

    @rule()
    def periodic_pass(self) -> None:
        self._step("periodic_pass")
        self.bot.runtime.worker.run_once()
        assert self.bot.settle()

    # -- the oracle -------------------------------------------------------------------------

    @invariant()
    def design_invariants_hold(self) -> None:
        assert self.bot.settle()
        with self.bot.runtime.sessions.begin() as s:
            invariants.check(s, self.bot.sim, SCHOOLS, now=self.clock.now())
            verified_off = {
                (event.window_id, event.environment)
                for event in s.scalars(
                    select(AuditEvent).where(AuditEvent.action == "schedule_written")
                )
                if (event.data.get("verified") or {}).get("nightly") is False
                and (event.data.get("verified") or {}).get("realtime") is False
            }
        for card in self.bot.cards():
            found = re.search(r"MW-(\d+):", card.text)
            if found is None:
                continue  # an alert of its own (merges found off with no window), not a card
            number = int(found.group(1))
            thread = self.bot.thread(number)
            for text in thread:
                if "switched off and verified" in text:
                    env = text.split("`", 2)[1]
                    # Reported as switched off only after a write that read back as off.
                    assert any(e == env for _, e in verified_off), (number, text)
            if self.bot.runtime.windows.get(number).state == "failed":
                assert any("needs a person" in t for t in thread), thread

    def teardown(self) -> None:
        # Coursedog recovers, every window runs out: each school must be back where it began.
        bot = self.bot
        bot.sim.clear_faults()
        for _ in range(6):
            self.clock.advance(timedelta(days=1))
            bot.tick()
            bot.runtime.worker.run_once()
            assert bot.settle()
        with bot.runtime.sessions.begin() as s:
            unfinished = s.scalars(select(Window.id).where(Window.state.in_(OPEN))).all()
            TALLY["windows"] += len(s.scalars(select(Window.id)).all())
            TALLY["held"] += len(
                s.scalars(
                    select(AuditEvent.id).where(AuditEvent.action == "baseline_recorded")
                ).all()
            )
            TALLY["verified_writes"] += len(
                s.scalars(
                    select(AuditEvent.id).where(AuditEvent.action == "schedule_written")
                ).all()
            )
        assert not unfinished, unfinished
        for school, start in START.items():
            state = bot.sim.school(school)
            assert (state.nightly, state.realtime) == start, (school, state.as_dict())
        with bot.runtime.sessions.begin() as s:
            invariants.check(s, bot.sim, SCHOOLS, now=self.clock.now())


def reset(bot: Bot, clock: ResettableClock) -> None:
    """An empty ledger, fresh schools, no faults, an empty Slack, the clock at the start."""
    assert bot.settle()
    bot.sim.clear_faults()
    with bot.runtime.sessions.begin() as s:
        empty_ledger(s)
    with bot.sim.lock:
        for school, (nightly, realtime) in START.items():
            bot.sim.schools[school] = SchoolState(nightly=nightly, realtime=realtime)
    slack = bot.slack
    with slack._cond:
        slack.messages.clear()
        slack.calls.clear()
        slack.responses.clear()
    clock.reset()


@pytest.mark.timeout(900)
def test_random_operations_and_faults_keep_every_invariant(database_url: str) -> None:
    clock = ResettableClock(T0)
    with running_bot(database_url, clock=clock) as bot:
        Operations.bot, Operations.clock = bot, clock
        run_state_machine_as_test(
            Operations,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                # In CI the same examples every time; elsewhere new ones on every run.
                derandomize=os.environ.get("CI", "").lower() == "true",
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    print(f"stateful: {TALLY} {dict(RULES)}")
