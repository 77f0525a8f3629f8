"""Done presses on an assisted checklist, checked by reading Coursedog where the bot can.

Save's Done is accepted only once a read shows every switch as the checklist asks (a bounded
series of reads, with progress shown); a switch's Done is checked at once if the read already
agrees, else at Save. Without read access the person's word is recorded as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.states import RowStatus, WindowState, move_row
from bot.errors import Conflict, InputError, NotFound
from bot.services import notices
from bot.services.access import Access
from bot.services.assisted import (
    COMMENT,
    COURSEDOG,
    PHASES,
    SAVE,
    SWITCHES,
    ChecklistView,
    Reader,
    load,
    rows_switched,
    steps_of,
)
from bot.services.drivers import Drivers
from bot.services.plans import ROW_EARLY, ROW_WAITING_RESTORE, holds
from coursedog.errors import CoursedogError
from storage import audit, windows
from storage.db import reading
from storage.models import AssistedStep


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
        drivers: Drivers,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._drivers = drivers
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
            try:
                agrees = self._read_agrees(press, client, only=press.step)
            except CoursedogError:
                agrees = False  # checked again, with retries, when Save is pressed
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

    def open_early(self, *, actor: str, window_id: int, environment: str) -> None:
        """Before an approved window starts, open its checklist on ``environment`` (switched
        by hand): from now on the window holds it, so the baseline is read (or, without
        read access, confirmed) before anyone switches, as at the start."""
        with self._sessions.begin() as session:
            window = windows.get_window(session, window_id, lock=True)
            if window is None:
                raise NotFound(f"There is no window MW-{window_id}.")
            self._access.check_may_manage(window, actor, "switch merges off early for")
            row = next((r for r in window.environments if r.environment == environment), None)
            if row is None:
                raise InputError(f"MW-{window_id} does not cover {environment}.")
            if not self._drivers.by_hand(environment):
                raise Conflict(
                    f"{environment} is switched by the bot at MW-{window_id}'s start; there is "
                    "nothing to do by hand before it."
                )
            if window.state != WindowState.APPROVED:
                raise Conflict(f"MW-{window_id} is {window.state}; its checklist is in its thread.")
            if row.status != RowStatus.PENDING:
                raise Conflict(f"The checklist for {environment} is already open in the thread.")
            move_row(row, ROW_EARLY)
            audit.add(
                session,
                at=self._clock.now(),
                actor=actor,
                action="checklist_opened_early",
                window_id=window.id,
                environment=environment,
            )

    def hand_to_coursedog(self, press: Press) -> ChecklistView:
        """The settings are locked: ask Coursedog to make the checklist's change (the notice
        to Coursedog support goes out as for settings found locked), and note who did."""
        with self._sessions.begin() as session:
            window = windows.get_window(session, press.window_id, lock=True)
            if window is None:
                raise NotFound(f"There is no window MW-{press.window_id}.")
            self._access.check_may_manage(window, press.actor, "hand over the checklist of")
            view = load(session, window.id, press.environment, press.phase, reads=True)
            if view is None or press.phase not in PHASES:
                raise NotFound("That checklist is not in the ledger.")
            if view.handed_to is not None:
                raise Conflict(f"<@{view.handed_to}> already handed this change to Coursedog.")
            if view.switched:
                raise Conflict("Every switch of this checklist is done; nothing to hand over.")
            now = self._clock.now()
            event = notices.LOCKED_OFF if press.phase == "off" else notices.LOCKED_RESTORE
            notices.plan(session, self._settings, window, event, now, environment=press.environment)
            session.add(
                AssistedStep(
                    window_id=window.id,
                    environment=press.environment,
                    phase=press.phase,
                    step=COURSEDOG,
                    position=len(view.steps),
                    done_by=press.actor,
                    done_at=now,
                    checked="confirmed",
                    created_at=now,
                )
            )
            audit.add(
                session,
                at=now,
                actor=press.actor,
                action="checklist_handed_to_coursedog",
                window_id=window.id,
                environment=press.environment,
                detail=f"{press.phase}: the settings are locked",
            )
            session.flush()
            handed = load(
                session,
                window.id,
                press.environment,
                press.phase,
                reads=press.environment in self._clients,
            )
            assert handed is not None
            return handed

    def reads(self, environment: str) -> bool:
        """Whether the bot can read the environment (else people's word is recorded)."""
        return environment in self._clients

    def view(self, press: Press) -> ChecklistView | None:
        """The checklist a press belongs to, as it stands."""
        return self.checklist(press.window_id, press.environment, press.phase)

    def checklist(self, window_id: int, environment: str, phase: str) -> ChecklistView | None:
        """A window's checklist for one environment and phase as it stands, if it has one."""
        with reading(self._sessions) as session:
            reads = environment in self._clients
            return load(session, window_id, environment, phase, reads=reads)

    def _check(self, press: Press) -> None:
        if press.phase not in PHASES or press.step not in (*SWITCHES, SAVE, COMMENT):
            raise InputError("That button does not name a checklist step.")
        with self._sessions.begin() as session:
            window = windows.get_window(session, press.window_id)
            if window is None:
                raise NotFound(f"There is no window MW-{press.window_id}.")
            self._access.check_may_manage(window, press.actor, "work through the checklist of")
            rows = {r.step: r for r in steps_of(session, window.id, press.environment, press.phase)}
            row = rows.get(press.step)
            if row is None:
                raise NotFound("That step is not on this checklist.")
            if row.done_by is not None:
                raise Conflict(f"<@{row.done_by}> already marked that step done.")
            current = holds(window, press.environment)
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
        live = client.read_switches()
        values = live.to_dict()
        return all(values[s] == want for s, want in view.desired.items() if only in (None, s))

    @staticmethod
    def _describe(client: Reader) -> str:
        try:
            return client.read_switches().describe()
        except CoursedogError:
            return "nothing readable"

    def _record(self, press: Press, checked: str | None) -> ChecklistView:
        with self._sessions.begin() as session:
            now = self._clock.now()
            rows = steps_of(session, press.window_id, press.environment, press.phase)
            for row in rows:
                if row.step == press.step:
                    if row.done_by is not None:
                        raise Conflict(f"<@{row.done_by}> already marked that step done.")
                    row.done_by, row.done_at = press.actor, now
                    row.checked = checked if row.checked != "read" else "read"
                    row.found = press.found
                elif press.step == SAVE and checked == "read" and row.step in SWITCHES:
                    row.checked = "read"  # the read that accepted the save covers the switches
            audit.add(
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
