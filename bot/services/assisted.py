"""The assisted driver's checklist in the ledger: a person switches, the bot checks by reading.

For each window, environment and phase ("off", then "restore") the ledger holds one row per
step: each switch that must change, saving, and the Activity comment, with who did it and how
it was checked ("read" or "confirmed"). Without read access an off-phase switch also records
what the person found, so the restore knows what to switch back on. Presses: presses.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from coursedog.models import Schedule
from storage.models import AssistedStep

SWITCHES = ("nightly", "realtime")
SAVE = "save"
COMMENT = "comment"
# Not a step to do: a person handed the change to Coursedog (the settings are locked).
COURSEDOG = "coursedog"
PHASES = ("off", "restore")


class Reader(Protocol):
    """What a check needs from the Coursedog client."""

    def read_switches(self) -> Schedule: ...


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
        return all(s.done for s in self.steps if s.step in (*SWITCHES, SAVE))

    @property
    def handed_to(self) -> str | None:
        """Who handed the change to Coursedog, if someone did."""
        step = self.step(COURSEDOG)
        return step.done_by if step is not None else None

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
    if steps_of(session, window_id, env, phase):
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
    rows = steps_of(session, window_id, env, phase)
    if not rows:
        return None
    steps = tuple(StepView(r.step, r.target, r.done_by, r.checked, r.found) for r in rows)
    return ChecklistView(window_id, env, phase, reads, steps)


def mark_read(session: Session, window_id: int, env: str, phase: str, now: datetime) -> None:
    """A read showed merges as the checklist asks: its switch and save steps are done."""
    for row in steps_of(session, window_id, env, phase):
        if row.step != COMMENT and row.checked != "read":
            row.checked = "read"
            row.done_at = row.done_at or now


def reopen(
    session: Session, window_id: int, env: str, phase: str, targets: Mapping[str, bool]
) -> None:
    """Merges moved again after the checklist was done: its switches and save start over."""
    rows = steps_of(session, window_id, env, phase)
    for row in rows:
        if row.step in (COMMENT, COURSEDOG):
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


def steps_of(session: Session, window_id: int, env: str, phase: str) -> list[AssistedStep]:
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


def rows_switched(rows: Mapping[str, AssistedStep]) -> bool:
    """Every switch step of a checklist has been pressed (or seen done by a read)."""
    return all(
        r.done_by is not None or r.checked == "read" for s, r in rows.items() if s in SWITCHES
    )
