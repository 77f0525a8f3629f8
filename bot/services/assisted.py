"""The assisted driver's checklist: a person switches, the bot checks by reading where it can.

For each window, environment and phase ("off", then "restore") the ledger holds one row per
step: each switch that must change, saving, and the Activity comment. A Done press is
recorded with who pressed it. With read access, Save's Done is accepted only once a read of
Coursedog shows every switch as the checklist asks (a bounded series of reads, with progress);
a switch's Done is checked at once if the read already agrees, else at Save. Without read
access the person's word is recorded as such, and an off-phase switch asks what was found, so
the restore knows what to switch back on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.states import HOLDING
from bot.errors import Conflict, InputError, NotFound
from bot.services.access import Access
from bot.services.outcomes import ROW_WAITING_RESTORE
from coursedog.errors import CoursedogError
from coursedog.models import Schedule, ScheduleSnapshot
from storage import ledger
from storage.models import AssistedStep

SWITCHES = ("nightly", "realtime")
SAVE = "save"
COMMENT = "comment"
PHASES = ("off", "restore")


class Reader(Protocol):
    """What a check needs from the Coursedog client."""

    def read_schedule(self) -> ScheduleSnapshot: ...


@dataclass(frozen=True)
class StepView:
    """One step and who did it."""

    step: str
    target: bool | None
    done_by: str | None
    checked: str | None
    found: bool | None

    @property
    def done(self) -> bool:
        """Pressed (and, for a read-checked step, agreed with by a read)."""
        return self.done_by is not None or self.checked == "read"


@dataclass(frozen=True)
class ChecklistView:
    """A checklist as the Slack message shows it."""

    window_id: int
    environment: str
    phase: str
    reads: bool
    steps: tuple[StepView, ...]

    def step(self, name: str) -> StepView | None:
        """The named step, if the checklist has it."""
        return next((s for s in self.steps if s.step == name), None)

    @property
    def switched(self) -> bool:
        """Every switch step and the save are done: merges should now be as asked."""
        return all(s.done for s in self.steps if s.step != COMMENT)

    @property
    def desired(self) -> dict[str, bool]:
        """Switch -> the value the checklist asks for."""
        return {s.step: bool(s.target) for s in self.steps if s.step in SWITCHES}

    @property
    def found_on(self) -> Schedule:
        """Without read access: what the person found on before switching off."""
        found = {s.step: bool(s.found) for s in self.steps if s.step in SWITCHES}
        return Schedule(nightly=found.get("nightly", False), realtime=found.get("realtime", False))


def ensure(
    session: Session,
    *,
    window_id: int,
    env: str,
    phase: str,
    targets: Mapping[str, bool],
    now: datetime,
) -> bool:
    """Create the checklist unless it exists; True when created."""
    if _rows(session, window_id, env, phase):
        return False
    steps = [*((s, targets[s]) for s in SWITCHES if s in targets), (SAVE, None), (COMMENT, None)]
    for position, (step, target) in enumerate(steps):
        session.add(
            AssistedStep(
                window_id=window_id,
                environment=env,
                phase=phase,
                step=step,
                target=target,
                position=position,
                created_at=now,
            )
        )
    session.flush()
    return True


def load(
    session: Session, window_id: int, env: str, phase: str, *, reads: bool
) -> ChecklistView | None:
    """The checklist, or None if there is none."""
    rows = _rows(session, window_id, env, phase)
    if not rows:
        return None
    steps = tuple(StepView(r.step, r.target, r.done_by, r.checked, r.found) for r in rows)
    return ChecklistView(window_id, env, phase, reads, steps)


def mark_read(session: Session, window_id: int, env: str, phase: str, now: datetime) -> None:
    """A read showed merges as the checklist asks: its switch and save steps are done."""
    for row in _rows(session, window_id, env, phase):
        if row.step != COMMENT and row.checked != "read":
            row.checked = "read"
            row.done_at = row.done_at or now


def reopen(
    session: Session, window_id: int, env: str, phase: str, targets: Mapping[str, bool]
) -> None:
    """Merges moved again after the checklist was done: its switches and save start over."""
    rows = _rows(session, window_id, env, phase)
    for row in rows:
        if row.step == COMMENT:
            continue
        if row.step in SWITCHES and row.step not in targets:
            continue  # still as asked
        row.done_by = row.done_at = row.checked = row.found = None
    have = {row.step for row in rows}
    for position, step in enumerate(s for s in SWITCHES if s in targets and s not in have):
        session.add(
            AssistedStep(
                window_id=window_id,
                environment=env,
                phase=phase,
                step=step,
                target=targets[step],
                position=position - len(SWITCHES),  # before the save
                created_at=rows[0].created_at,
            )
        )


def _rows(session: Session, window_id: int, env: str, phase: str) -> list[AssistedStep]:
    return list(
        session.scalars(
            select(AssistedStep)
            .where(
                AssistedStep.window_id == window_id,
                AssistedStep.environment == env,
                AssistedStep.phase == phase,
            )
            .order_by(AssistedStep.position)
        )
    )


@dataclass(frozen=True)
class Press:
    """A Done press: which step of which checklist, by whom, and what they found."""

    actor: str
    window_id: int
    environment: str
    phase: str
    step: str
    found: bool | None = None


class AssistedService:
    """Records Done presses, checking them by reading where the bot can read."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        clients: Mapping[str, Reader],
        access: Access,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._clients = clients
        self._access = access
        self._sleep = sleep

    def press(
        self, press: Press, progress: Callable[[str], None] = lambda _: None
    ) -> tuple[ChecklistView, str]:
        """Record one press; returns the checklist and what to tell the person."""
        client = self._clients.get(press.environment)
        self._check(press)
        if press.step == SAVE and client is not None:
            self._verify_save(press, client, progress)
            return self._record(press, "read"), "Saved and verified by reading Coursedog."
        if press.step in SWITCHES and client is not None:
            agrees = self._read_agrees(press, client, only=press.step)
            view = self._record(press, "read" if agrees else None)
            return view, (
                "Verified by reading Coursedog."
                if agrees
                else "Noted; Coursedog shows it once saved, and the bot checks it at Save."
            )
        view = self._record(press, "confirmed")
        if client is None and press.step != COMMENT:
            return view, "Recorded as your confirmation: this environment has no read access."
        return view, "Recorded."

    def reads(self, environment: str) -> bool:
        """Whether the bot can read the environment (else people's word is recorded)."""
        return environment in self._clients

    def view(self, press: Press) -> ChecklistView | None:
        """The checklist a press belongs to, as it stands."""
        with self._sessions.begin() as session:
            return load(
                session,
                press.window_id,
                press.environment,
                press.phase,
                reads=press.environment in self._clients,
            )

    def _check(self, press: Press) -> None:
        if press.phase not in PHASES or press.step not in (*SWITCHES, SAVE, COMMENT):
            raise InputError("That button does not name a checklist step.")
        with self._sessions.begin() as session:
            window = ledger.get_window(session, press.window_id)
            if window is None:
                raise NotFound(f"There is no window MW-{press.window_id}.")
            self._access.check_may_manage(window, press.actor, "work through the checklist of")
            rows = {r.step: r for r in _rows(session, window.id, press.environment, press.phase)}
            row = rows.get(press.step)
            if row is None:
                raise NotFound("That step is not on this checklist.")
            if row.done_by is not None:
                raise Conflict(f"<@{row.done_by}> already marked that step done.")
            current = window.state in HOLDING
            status = next(
                e.status for e in window.environments if e.environment == press.environment
            )
            over = (press.phase == "off") != current or (
                press.phase == "restore" and status not in ROW_WAITING_RESTORE
            )
            if over and press.step != COMMENT:
                raise Conflict(f"This checklist of MW-{window.id} is over; nothing to do.")
            if press.step == SAVE and press.phase == "off" and not rows_switched(rows):
                raise Conflict("Mark each switch first, then the save.")

    def _verify_save(self, press: Press, client: Reader, progress: Callable[[str], None]) -> None:
        """Read until every switch is as asked, or the bound runs out: then refuse."""
        config = self._settings.assisted
        last = ""
        for attempt in range(1, config.verify_reads + 1):
            progress(f"Checking Coursedog: read {attempt} of {config.verify_reads}…")
            try:
                if self._read_agrees(press, client):
                    return
                last = "its read still shows something else"
            except CoursedogError as exc:
                last = f"reading failed: {exc}"
            if attempt < config.verify_reads:
                self._sleep(config.verify_every_seconds)
        live = self._describe(client)
        seconds = config.verify_every_seconds * (config.verify_reads - 1)
        raise Conflict(
            f"Not marked done: after {config.verify_reads} reads over {seconds:g} s Coursedog "
            f"shows {live} ({last}). Press *Save* in Merge Settings, then Done again."
        )

    def _read_agrees(self, press: Press, client: Reader, only: str | None = None) -> bool:
        with self._sessions.begin() as session:
            view = load(session, press.window_id, press.environment, press.phase, reads=True)
        assert view is not None
        live = client.read_schedule().schedule
        values = {"nightly": live.nightly, "realtime": live.realtime}
        return all(values[s] == want for s, want in view.desired.items() if only in (None, s))

    @staticmethod
    def _describe(client: Reader) -> str:
        try:
            return client.read_schedule().schedule.describe()
        except CoursedogError:
            return "nothing readable"

    def _record(self, press: Press, checked: str | None) -> ChecklistView:
        with self._sessions.begin() as session:
            now = self._clock.now()
            rows = _rows(session, press.window_id, press.environment, press.phase)
            for row in rows:
                if row.step == press.step:
                    if row.done_by is not None:
                        raise Conflict(f"<@{row.done_by}> already marked that step done.")
                    row.done_by, row.done_at = press.actor, now
                    row.checked = checked if row.checked != "read" else "read"
                    row.found = press.found
                elif press.step == SAVE and checked == "read" and row.step in SWITCHES:
                    row.checked = "read"  # the read that accepted the save covers the switches
            ledger.add_audit(
                session,
                at=now,
                actor=press.actor,
                action="checklist_step_done",
                window_id=press.window_id,
                environment=press.environment,
                detail=f"{press.phase}: {press.step}"
                + (f" (found {'on' if press.found else 'off'})" if press.found is not None else "")
                + (f", checked by {checked}" if checked else ""),
            )
            reads = press.environment in self._clients
            view = load(session, press.window_id, press.environment, press.phase, reads=reads)
            assert view is not None
            return view


def rows_switched(rows: Mapping[str, AssistedStep]) -> bool:
    """Every switch step of a checklist has been pressed (or seen done by a read)."""
    return all(
        r.done_by is not None or r.checked == "read" for s, r in rows.items() if s in SWITCHES
    )
