"""`sis-maint audit verify`: walk the audit trail's hash chain and name the first broken event."""

from __future__ import annotations

from bot.startup import StartupError
from storage import audit
from storage.db import current_revision, head_revision, make_engine, make_sessions

EXIT_BROKEN = 1


def verify_trail(url: str) -> tuple[int, str]:
    """The exit code and the report for the ledger at ``url``."""
    engine = make_engine(url)
    try:
        try:
            revision = current_revision(engine)
        except Exception as exc:  # any failure to connect means the same to the operator
            raise StartupError(f"The database at DATABASE_URL cannot be reached: {exc}") from None
        if revision != head_revision():
            raise StartupError(
                f"The database is at revision {revision or 'none'}, not {head_revision()}: "
                "run `sis-maint migrate` first."
            )
        with make_sessions(engine).begin() as session:
            verdict = audit.verify(session)
    finally:
        engine.dispose()
    return (0 if verdict.ok else EXIT_BROKEN), describe(verdict)


def describe(verdict: audit.Verdict) -> str:
    """What the operator reads."""
    if verdict.broken is not None:
        b = verdict.broken
        intact = (
            "No event before it checks out"
            if verdict.events == 0
            else f"The {verdict.events} event(s) before it check out (up to #{verdict.head_id})"
        )
        return (
            f"Audit trail BROKEN at event #{b.event_id} ({b.action}, {b.at}): {b.reason}.\n"
            f"{intact}; nothing from #{b.event_id} on can be trusted."
        )
    if verdict.events == 0:
        return "Audit trail is empty: nothing to verify."
    return (
        f"Audit trail intact: {verdict.events} event(s), the last #{verdict.head_id} "
        f"with hash {verdict.head_hash}.\n"
        "Keep that hash elsewhere: a later check that does not reach it shows a cut trail."
    )
