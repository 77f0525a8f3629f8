"""Services are the only code that changes the ledger: the Slack side and the due-action
handlers post and call services, and never open a transaction or touch a row themselves."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot/slack", "bot/jobs", "bot/api")
# The scheduler is the unit of work of due actions: its own transactions claim, complete and
# give back the due_actions rows; a handler's effect rides in Lease.transaction, written by
# services.
EXEMPT = {"bot/jobs/scheduler.py"}
# Names from storage that change nothing: the replay context marks the request whose writes
# (made by services) claim its key.
HARMLESS = {("storage.replay", "acting_once")}


def problems(source: str) -> list[str]:
    """What in ``source`` reaches the ledger other than through a service."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if _ledger_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [f"imports {node.module}.{a.name}" for a in _reaching(node)]
        elif isinstance(node, ast.Call) and _method(node) == "begin":
            found.append(f"opens a transaction (line {node.lineno})")
        elif isinstance(node, ast.Attribute) and _name(node.value) == "session":
            found.append(f"uses a session's {node.attr} (line {node.lineno})")
    return found


def _ledger_module(name: str) -> bool:
    return name.split(".", maxsplit=1)[0] in ("storage", "sqlalchemy")


def _reaching(node: ast.ImportFrom) -> list[ast.alias]:
    """The names an import takes that could write: SQLAlchemy, storage's modules, functions
    and rows (storage's types, such as a claimed action or an exception, are harmless)."""
    module = node.module or ""
    if not _ledger_module(module):
        return []
    if module.startswith("sqlalchemy") or module in ("storage", "storage.models"):
        return list(node.names)
    loaded = importlib.import_module(module)
    return [
        alias
        for alias in node.names
        if (module, alias.name) not in HARMLESS
        and not inspect.isclass(getattr(loaded, alias.name, None))
    ]


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def scanned_modules() -> list[Path]:
    """Every module of the Slack side and the jobs, but the scheduler."""
    paths = [p for folder in SCANNED for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in paths if p.relative_to(ROOT).as_posix() not in EXEMPT]


@pytest.mark.parametrize("path", scanned_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_slack_and_jobs_change_the_ledger_only_through_services(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


def test_the_exempt_modules_exist() -> None:
    assert all((ROOT / module).is_file() for module in EXEMPT)


def test_the_scan_finds_each_way_around_a_service() -> None:
    source = """
from sqlalchemy.orm import sessionmaker
from storage import slack_notices
from storage.models import SlackNotice
from storage.pending_reports import settle_report
from storage.due import ClaimedAction
from storage.replay import Replayed, acting_once
import storage.windows

def post(sessions, lease):
    with sessions.begin() as session:
        slack_notices.claim_notice(session, "k", "C1", None, None)
    with lease.transaction() as session:
        session.get(SlackNotice, 1)
"""
    assert problems(source) == [
        "imports sqlalchemy.orm.sessionmaker",
        "imports storage.slack_notices",
        "imports storage.models.SlackNotice",
        "imports storage.pending_reports.settle_report",
        "imports storage.windows",
        "opens a transaction (line 11)",
        "uses a session's get (line 14)",
    ]


# Where bot/ may set a ``state`` or ``status`` attribute itself: the state machines, and the
# rows that have none there (a series has its own; a remote write's intent is settled).
STATE_SETTERS = {
    "bot/domain/states.py": {"window.state", "row.status", "notice.status"},
    "bot/services/series.py": {"row.state"},
    "bot/services/plans.py": {"stale.status"},
    "bot/services/comments.py": {"intent.status"},
    "bot/slack/gate.py": {"self.status"},  # an HTTP status
}


def state_assignments(source: str) -> list[tuple[str, int]]:
    """Every ``x.state = …`` and ``x.status = …`` in ``source`` (in tuples too), with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets += target.elts if isinstance(target, ast.Tuple) else [target]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        found += [
            (ast.unparse(t), node.lineno)
            for t in targets
            if isinstance(t, ast.Attribute) and t.attr in ("state", "status")
        ]
    return found


@pytest.mark.parametrize(
    "path", sorted((ROOT / "bot").rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_windows_rows_and_notices_move_only_through_their_state_machine(path: Path) -> None:
    allowed = STATE_SETTERS.get(path.relative_to(ROOT).as_posix(), set())
    source = path.read_text(encoding="utf-8")
    assert [(t, line) for t, line in state_assignments(source) if t not in allowed] == []


def test_the_state_scan_finds_a_move_around_the_machine() -> None:
    source = """
row.status = "off"
window.state, window.ended_at = "ended", now
notice.status: str = "sent"
move_row(row, RowStatus.OFF)
status = "x"
"""
    assert state_assignments(source) == [
        ("row.status", 2),
        ("window.state", 3),
        ("notice.status", 4),
    ]
    assert all((ROOT / module).is_file() for module in STATE_SETTERS)
