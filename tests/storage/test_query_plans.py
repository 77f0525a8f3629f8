"""The periodic passes find the present without walking the past.

The scheduler, the worker, its watchdog and ``status`` ask the same questions every few
seconds or minutes for as long as the bot serves, while the ledger keeps every finished
window. Each question is asked here through the real ledger functions and the SQL they emit
is captured. On SQLite (which never gathers statistics in service) every statement is planned
under EXPLAIN QUERY PLAN and must reach the tables that grow with history only through an
index that narrows to the present; and the work it does, counted in steps of SQLite's virtual
machine, must not grow from a few finished windows to many. On PostgreSQL, whose planner may
rightly scan a tiny table, the indexes these plans rely on must exist.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from bench.history_fill import fill
from bot.domain.states import HOLDING
from bot.services.idle_watch import EXPLAINED, UNEXPLAINED
from bot.services.plans import ROW_WAITING_RESTORE
from storage import audit, due, pending_reports, remote_writes, reporting, windows
from storage.db import make_engine, make_sessions
from storage.models import Base, Baseline, DueAction, RemoteWrite
from tests.ledger_rows import add_window

# Tables that gain rows with every window and keep them.
HISTORY = {
    "windows", "window_environments", "audit_events", "due_actions", "remote_writes",
    "baselines", "slack_notices", "coursedog_notices", "assisted_steps",
}  # fmt: skip
# Indexes with a WHERE clause hold only the present (held baselines, writes in flight).
PARTIAL = {
    index.name
    for table in Base.metadata.tables.values()
    for index in table.indexes
    if index.dialect_options["sqlite"]["where"] is not None
}
PLAN_LINE = re.compile(
    r"(?P<how>SCAN|SEARCH) (?P<table>\w+)(?: AS \w+)?"
    r"(?: USING (?:COVERING )?INDEX (?P<index>\w+))?(?: \((?P<terms>[^)]*)\))?"
)
NOW = datetime.now(UTC).replace(microsecond=0)
HOLDING_STATES = sorted(s.value for s in HOLDING)
SMALL, LARGE = 20, 400


@dataclass(frozen=True)
class Present:
    """Today's ledger on top of the past: the rows the periodic questions are about."""

    active: int  # a window holding prod, its baseline held
    ending: int  # an ended window whose staging row still waits for its restore


def _present(sessions: sessionmaker[Session]) -> Present:
    with sessions.begin() as s:
        active = add_window(s, "active", {"prod": "off"}, at=NOW)
        ending = add_window(s, "ended", {"staging": "ending"}, at=NOW)
        s.add(
            Baseline(
                environment="prod", nightly=True, realtime=True, captured_at=NOW, window_id=active
            )
        )
        s.add(
            DueAction(
                kind="end", window_id=active, due_at=NOW + timedelta(hours=2), status="pending",
                attempts=0, lease_epoch=0, dedup_key=f"end:{active}", created_at=NOW,
            )
        )  # fmt: skip
        s.add(
            RemoteWrite(
                environment="prod", operation="write_schedule", window_id=active,
                desired={"nightly": False, "realtime": False}, status="applied",
                started_at=NOW, finished_at=NOW,
            )
        )  # fmt: skip
        audit.add(s, at=NOW, actor="system", action=UNEXPLAINED, environment="prod")
        audit.add(s, at=NOW, actor="system", action=EXPLAINED, environment="prod")
    return Present(active=active, ending=ending)


Question = Callable[[Session, Present], Any]

# What the passes ask, as they ask it (bot/jobs/scheduler.py, bot/jobs/worker.py and the
# reconciler's plan and watchdog, bot/services/status.py, bot/ops/metrics.py).
QUESTIONS: dict[str, Question] = {
    "scheduler: claim what is due": lambda s, p: due.claim_due(
        s, owner="plans", now=NOW, lease=timedelta(minutes=2), limit=50
    ),
    "scheduler: next due time": lambda s, p: due.next_due_at(s),
    "worker: environments in play": lambda s, p: windows.environments_in_play(
        s, HOLDING_STATES, ROW_WAITING_RESTORE, NOW
    ),
    "worker: writes that may still land": lambda s, p: [
        remote_writes.writes_that_may_land(s, env, NOW) for env in ("prod", "staging")
    ],
    "worker: owed reports": lambda s, p: pending_reports.owed_reports(s, "report:"),
    "worker: owed direct messages": lambda s, p: pending_reports.owed_reports(s, "dm:"),
    "worker: abandoned writes": lambda s, p: remote_writes.pending_writes(s, "prod"),
    "worker: cards owed": lambda s, p: windows.cards_owed(s, "requested", NOW),
    "worker: the plan's holding and waiting windows": lambda s, p: [
        windows.holding_and_waiting(s, env, HOLDING_STATES, ROW_WAITING_RESTORE)
        for env in ("prod", "staging")
    ],
    "status: holding windows": lambda s, p: [
        windows.windows_on(s, env, HOLDING_STATES) for env in ("prod", "staging")
    ],
    "saved-state choice: rows owed a restore": lambda s, p: [
        windows.window_environments(s, env, ROW_WAITING_RESTORE) for env in ("prod", "staging")
    ],
    "worker and status: held baseline": lambda s, p: [
        windows.held_baseline(s, env) for env in ("prod", "staging")
    ],
    "worker: the planned windows, locked": lambda s, p: [
        windows.get_window(s, p.active, lock=True),
        windows.get_window(s, p.ending, lock=True),
    ],
    "watchdog: last report": lambda s, p: [
        audit.last_environment_action(s, env, (UNEXPLAINED, EXPLAINED))
        for env in ("prod", "staging")
    ],
    "metrics: due and late": lambda s, p: reporting.due_counts(
        s, now=NOW, late_before=NOW - timedelta(minutes=5)
    ),
}


@dataclass
class Ledger:
    engine: Engine
    present: Present

    def statements(self, question: Question) -> list[tuple[str, Any]]:
        """The SELECTs a question sends, with their parameters (nothing is committed)."""
        sent: list[tuple[str, Any]] = []

        def grab(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                sent.append((statement, parameters))

        event.listen(self.engine, "before_cursor_execute", grab)
        try:
            with Session(self.engine) as session:
                question(session, self.present)
                session.rollback()
        finally:
            event.remove(self.engine, "before_cursor_execute", grab)
        assert sent, "the question sent no query"
        return sent

    def plan(self, statement: str, parameters: Any) -> list[str]:
        return [row[-1] for row in self._run(f"EXPLAIN QUERY PLAN {statement}", parameters)[1]]

    def steps(self, statement: str, parameters: Any) -> int:
        """How many virtual machine steps SQLite takes to answer the statement."""
        return self._run(statement, parameters)[0]

    def _run(self, statement: str, parameters: Any) -> tuple[int, list[Any]]:
        raw = self.engine.raw_connection()
        count = [0]

        def step() -> int:
            count[0] += 1
            return 0

        try:
            driver: Any = raw.driver_connection
            driver.set_progress_handler(step, 1)
            cursor = raw.cursor()
            rows = list(cursor.execute(statement, parameters).fetchall())
            driver.set_progress_handler(None, 1)
            return count[0], rows
        finally:
            raw.rollback()
            raw.close()


@contextmanager
def _ledger(template: Path, path: Path, past: int) -> Iterator[Ledger]:
    """A migrated SQLite ledger with ``past`` finished windows (bench/history_fill.py)."""
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        fill(engine, past)
        yield Ledger(engine, _present(make_sessions(engine)))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def ledgers(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[int, Ledger]]:
    """Two SQLite ledgers alike but for their past: SMALL and LARGE finished windows."""
    folder = tmp_path_factory.mktemp("plans")
    with ExitStack() as stack:
        yield {
            size: stack.enter_context(_ledger(sqlite_template, folder / f"{size}.db", size))
            for size in (SMALL, LARGE)
        }


def _walks_the_past(line: str) -> bool:
    """Whether a plan step reads a history table beyond its present rows."""
    found = PLAN_LINE.match(line)
    if found is None or found["table"] not in HISTORY or found["index"] in PARTIAL:
        return False
    if found["how"] == "SCAN":
        return True
    # An environment's rows span its whole history: the environment alone narrows nothing.
    return (found["terms"] or "").strip() == "environment=?"


@pytest.mark.parametrize("name", QUESTIONS)
def test_each_periodic_query_reaches_history_only_through_a_narrowing_index(
    name: str, ledgers: dict[int, Ledger]
) -> None:
    ledger_ = ledgers[LARGE]
    for statement, parameters in ledger_.statements(QUESTIONS[name]):
        plan = ledger_.plan(statement, parameters)
        walking = [line for line in plan if _walks_the_past(line)]
        assert not walking, f"{name}: {walking} in the plan of\n{statement}\n{plan}"


@pytest.mark.parametrize("name", QUESTIONS)
def test_each_periodic_query_does_as_much_work_with_a_long_past_as_with_a_short_one(
    name: str, ledgers: dict[int, Ledger]
) -> None:
    work = {
        size: [ledger_.steps(*sent) for sent in ledger_.statements(QUESTIONS[name])]
        for size, ledger_ in ledgers.items()
    }
    assert len(work[SMALL]) == len(work[LARGE])
    for short, long in zip(work[SMALL], work[LARGE], strict=True):
        # The past grew twentyfold, the present did not: the same work, give or take a little.
        assert long <= short * 1.2 + 20, f"{name}: {short} steps with {SMALL}, {long} with {LARGE}"


def test_the_plans_see_the_past_they_are_meant_to_skip(ledgers: dict[int, Ledger]) -> None:
    # Were the fill to write nothing, every check above would pass for the wrong reason.
    for size, ledger_ in ledgers.items():
        ((count,),) = ledger_._run("SELECT count(*) FROM windows", ())[1]
        assert count == size + 2
    probe = "SELECT action FROM audit_events WHERE detail = ? ORDER BY id DESC LIMIT 1"
    assert any(_walks_the_past(line) for line in ledgers[LARGE].plan(probe, ("x",)))
    assert ledgers[LARGE].steps(probe, ("x",)) > 10 * ledgers[SMALL].steps(probe, ("x",))


INDEXES = {
    "windows": ["ix_windows_state"],
    "window_environments": ["ix_window_environments_status_environment"],
    "audit_events": ["ix_audit_events_environment_action_id"],
    "baselines": ["uq_baselines_held"],
    "remote_writes": ["uq_remote_writes_in_flight", "ix_remote_writes_late"],
    "due_actions": ["ix_due_actions_status_due_at"],
}


def test_the_indexes_the_plans_rely_on_exist(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        for table, names in INDEXES.items():
            present = {index["name"] for index in inspector.get_indexes(table)}
            assert set(names) <= present, f"{table}: {set(names) - present} missing"
    finally:
        engine.dispose()
