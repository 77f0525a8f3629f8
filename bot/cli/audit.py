"""`sis-maint audit verify`: walk the audit trail's hash chain and name the first broken event."""

from __future__ import annotations

from bot.run.startup import StartupError
from storage import audit_chain
from storage.db import current_revision, head_revision, make_engine, make_sessions

EXIT_BROKEN = 1


def parse_anchor(text: str) -> tuple[int, str]:
    """``1234:<hash>`` as printed by an earlier check -> (1234, hash)."""
    number, _, digest = text.partition(":")
    if not (number.isascii() and number.isdigit() and len(digest) == 64):
        raise StartupError(f"--anchor takes EVENT:HASH as printed by a check, not {text!r}")
    return int(number), digest.lower()


def verify_trail(url: str, anchor: tuple[int, str] | None = None) -> tuple[int, str]:
    """The exit code and the report for the ledger at ``url``, checked against ``anchor``."""
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
            verdict = audit_chain.verify(session)
            held = audit_chain.hash_of(session, anchor[0]) if anchor else None
    finally:
        engine.dispose()
    if verdict.ok and anchor is not None and held != anchor[1]:
        what = "is gone: the trail was cut" if held is None else "no longer has that hash"
        return EXIT_BROKEN, (
            f"Audit trail BROKEN: event #{anchor[0]}, recorded with hash {anchor[1]}, {what}. "
            "The chain after it was rebuilt, or events were removed."
        )
    return (0 if verdict.ok else EXIT_BROKEN), describe(verdict)


def describe(verdict: audit_chain.Verdict) -> str:
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
        f"Keep `{verdict.head_id}:{verdict.head_hash}` elsewhere and pass it as --anchor "
        "to later checks: a trail cut or rebuilt since then fails them."
    )
