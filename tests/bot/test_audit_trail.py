"""`sis-maint audit verify` as an operator runs it (its main(), in this process): intact,
tampered, not migrated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage import audit
from storage.db import make_engine, make_sessions
from tests.bot.test_cli import run_main
from tests.tamper import tamper

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def record(url: str, *actions: str) -> None:
    engine = make_engine(url)
    for action in actions:
        with make_sessions(engine).begin() as s:
            audit.add(s, at=T0, actor="U0REQUEST1", action=action, detail=action)
    engine.dispose()


def test_an_intact_trail_passes_and_prints_its_head(database_url: str) -> None:
    record(database_url, "requested", "approved", "schedule_written", "ended")
    result = run_main("audit", "verify", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "Audit trail intact: 4 event(s), the last #4 with hash" in result.stdout


def test_an_empty_trail_says_so(database_url: str) -> None:
    result = run_main("audit", "verify", env={"DATABASE_URL": database_url})
    assert result.returncode == 0 and "Audit trail is empty" in result.stdout


def test_a_rewritten_event_is_named_and_the_exit_code_says_so(database_url: str) -> None:
    record(database_url, "requested", "approved", "schedule_written", "ended")
    tamper(database_url, "UPDATE audit_events SET actor = 'U0SOMEONE' WHERE id = 2")
    result = run_main("audit", "verify", env={"DATABASE_URL": database_url})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Audit trail BROKEN at event #2 (approved," in result.stderr
    assert "changed after it was written" in result.stderr
    assert "The 1 event(s) before it check out (up to #1)" in result.stderr


def test_a_removed_event_is_found_at_the_next_one(database_url: str) -> None:
    record(database_url, "requested", "approved", "schedule_written", "ended")
    tamper(database_url, "DELETE FROM audit_events WHERE id = 3")
    result = run_main("audit", "verify", env={"DATABASE_URL": database_url})
    assert result.returncode == 1
    assert "BROKEN at event #4 (ended," in result.stderr
    assert "does not match the hash of event #2" in result.stderr


def test_an_unmigrated_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    result = run_main("audit", "verify", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.returncode == 2 and "run `sis-maint migrate` first" in result.stderr


def anchor_of(url: str) -> str:
    result = run_main("audit", "verify", env={"DATABASE_URL": url})
    return result.stdout.split("Keep `")[1].split("`")[0]


def test_an_anchor_from_an_earlier_check_still_holds_as_the_trail_grows(database_url: str) -> None:
    record(database_url, "requested", "approved")
    anchor = anchor_of(database_url)
    assert anchor.startswith("2:")
    record(database_url, "ended")
    result = run_main("audit", "verify", "--anchor", anchor, env={"DATABASE_URL": database_url})
    assert result.returncode == 0 and "intact: 3 event(s)" in result.stdout


def test_a_trail_cut_after_the_anchor_fails_the_check(database_url: str) -> None:
    record(database_url, "requested", "approved", "ended")
    anchor = anchor_of(database_url)
    tamper(database_url, "DELETE FROM audit_events WHERE id = 3")  # the chain before it holds
    assert run_main("audit", "verify", env={"DATABASE_URL": database_url}).returncode == 0
    result = run_main("audit", "verify", "--anchor", anchor, env={"DATABASE_URL": database_url})
    assert result.returncode == 1 and "event #3" in result.stderr and "is gone" in result.stderr


def test_a_trail_rebuilt_with_fresh_hashes_fails_the_check(database_url: str) -> None:
    record(database_url, "requested", "approved")
    anchor = anchor_of(database_url)
    tamper(database_url, "DELETE FROM audit_events")
    record(database_url, "requested", "denied")  # a consistent chain, told differently
    assert run_main("audit", "verify", env={"DATABASE_URL": database_url}).returncode == 0
    result = run_main("audit", "verify", "--anchor", anchor, env={"DATABASE_URL": database_url})
    assert result.returncode == 1 and "Audit trail BROKEN: event #2, recorded" in result.stderr
    # SQLite numbers the new events from 1 again (a different #2); PostgreSQL goes on (no #2).
    assert "no longer has that hash" in result.stderr or "is gone" in result.stderr


def test_an_anchor_that_is_not_one_is_refused(database_url: str) -> None:
    result = run_main("audit", "verify", "--anchor", "3", env={"DATABASE_URL": database_url})
    assert result.returncode == 2 and "EVENT:HASH" in result.stderr
