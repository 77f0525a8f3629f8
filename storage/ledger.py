"""Ledger queries. Functions take the caller's session and never commit.

The ones the periodic passes run (the worker, the watchdog, ``status``) find the present
through indexes on state, status or the held rows, so their cost does not grow with the
number of finished windows in the ledger (tests/storage/test_query_plans.py holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    delete,
    exists,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session, joinedload

from storage import audit, recurring, unit
from storage.dialect_insert import insert_new
from storage.models import (
    AuditEvent,
    Baseline,
    EnvironmentLease,
    PendingReport,
    RemoteWrite,
    SlackNotice,
    Window,
    WindowEnvironment,
    row_values,
)

# Written into the statement, not bound, so the partial index of owed comments is usable
# however the database plans (PostgreSQL's generic plans too).
_OWED = literal("owed", literal_execute=True)
_LOADED = unit.transaction_key("ledger_windows_loaded")  # see get_window
_WINDOWS = cast(Table, Window.__table__)
_INSERT_WINDOW = insert(_WINDOWS).returning(_WINDOWS.c.id)
_INSERT_ENVIRONMENTS = insert(cast(Table, WindowEnvironment.__table__))


def add_audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    window_id: int | None = None,
    environment: str | None = None,
    detail: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail when the transaction commits.

    The event gets its id and place in the hash chain then; call ``append_audit_now`` first
    when the id is needed inside the transaction.
    """
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        window_id=window_id,
        environment=environment,
        detail=detail,
        data=data or {},
    )
    audit.stage(session, event)
    return event


def append_audit_now(session: Session) -> None:
    """Append the events added so far in this transaction, so they have ids.

    It takes the audit chain lock until the end of the transaction: make it the last step.
    """
    audit.append_staged(session)


def last_environment_action(
    session: Session, environment: str, actions: Iterable[str]
) -> str | None:
    """The most recent of ``actions`` recorded for an environment, if any.

    One newest id per action, each the last entry of its range of the (environment, action,
    id) index, then the newest of those.
    """
    wanted = list(dict.fromkeys(actions))
    if not wanted:
        return None
    newest = [
        select(AuditEvent.id)
        .where(AuditEvent.environment == environment, AuditEvent.action == action)
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .scalar_subquery()
        for action in wanted
    ]
    ids = session.execute(select(*newest)).one()
    found = [
        (event_id, action)
        for event_id, action in zip(ids, wanted, strict=True)
        if event_id is not None
    ]
    return max(found)[1] if found else None


def insert_window(session: Session, window: Window) -> Window:
    """Insert a new window and its environments in two statements, now, so that it has its
    number; the object stays out of the session (later changes to it are not saved).

    Not through the ORM's unit of work: that was the largest single cost of a request.
    """
    window.version = 1  # what the ORM's version counter starts at
    window.id = session.execute(_INSERT_WINDOW, row_values(window)).scalar_one()
    for row in window.environments:
        row.window_id = window.id
    if window.environments:
        rows = [row_values(row) for row in window.environments]
        session.execute(_INSERT_ENVIRONMENTS, rows)
    audit.holds(session, window.id)  # inserted here: no one else can touch its row
    return window


def get_window(session: Session, window_id: int, *, lock: bool = False) -> Window | None:
    """A window by number with its environments (one statement), optionally locked for update
    (the window's row; its environments are not locked)."""
    stmt = select(Window).where(Window.id == window_id).options(joinedload(Window.environments))
    if lock:
        # The lock first, then the read. On PostgreSQL a statement that waited for the row's
        # lock returns that row as it is now, but the rows it joins to it (the environments) as
        # they were when the statement began, before the commit it waited for. SQLite's writers
        # take turns from their first statement (storage.db): there is nothing to wait for.
        if session.get_bind().dialect.name == "postgresql":
            locked = select(Window.id).where(Window.id == window_id).with_for_update()
            if session.scalar(locked) is None:
                return None
        stmt = stmt.execution_options(populate_existing=True)
    window = session.scalars(stmt).unique().first()
    if window is not None:
        # Later steps of the transaction (the Activity comment an outcome owes, say) then
        # find it without reading it again.
        unit.keep(session, _LOADED, window, window.id)
        if lock:
            audit.holds(session, window.id)
    return window


def windows_on(session: Session, environment: str, states: Iterable[str]) -> Sequence[Window]:
    """Windows in ``states`` that cover ``environment``, oldest first.

    Found by state, then checked for the environment: an environment's rows span its history.
    """
    stmt = select(Window).where(*_in_states_on(environment, states)).order_by(Window.id)
    return session.scalars(stmt).all()


def _in_states_on(environment: str, states: Iterable[str]) -> tuple[ColumnElement[bool], ...]:
    """Windows in ``states`` covering ``environment``: by state, then checked for the
    environment (an environment's rows span its history)."""
    return Window.state.in_(list(states)), recurring.covers([environment])


def _rows_in_statuses(environment: str, statuses: Iterable[str]) -> tuple[ColumnElement[bool], ...]:
    """Rows of ``environment`` in ``statuses`` (the status index)."""
    return (
        WindowEnvironment.environment == environment,
        WindowEnvironment.status.in_(list(statuses)),
    )


def holding_and_waiting(
    session: Session,
    environment: str,
    states: Iterable[str],
    statuses: Iterable[str],
    *,
    early: tuple[str, Iterable[str]] | None = None,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The numbers of the windows in ``states`` that cover ``environment`` and of those whose
    row of it is in ``statuses``, each oldest first, read in one statement. ``early``: a
    window state and row statuses that count as holding too (a checklist opened early).

    One statement, one snapshot: on PostgreSQL each statement of a READ COMMITTED transaction
    sees what had committed when it began, so a window ended between two separate reads would
    be found both still holding and already waiting. Each half is what ``windows_on`` and
    ``window_environments`` ask, through the same index.
    """
    holds, waits = literal_column("1", Integer), literal_column("2", Integer)
    holding = select(holds.label("kind"), Window.id.label("window_id")).where(
        *_in_states_on(environment, states)
    )
    waiting = select(waits, WindowEnvironment.window_id).where(
        *_rows_in_statuses(environment, statuses)
    )
    parts = [holding, waiting]
    if early is not None:
        state, early_statuses = early
        parts.append(
            select(holds, WindowEnvironment.window_id)
            .join(Window, Window.id == WindowEnvironment.window_id)
            .where(*_rows_in_statuses(environment, early_statuses), Window.state == state)
        )
    found: dict[int, set[int]] = {1: set(), 2: set()}
    for kind, window_id in session.execute(union_all(*parts)):
        found[kind].add(window_id)
    return tuple(sorted(found[1])), tuple(sorted(found[2]))


def any_by_hand(session: Session, environment: str, window_ids: Sequence[int]) -> bool:
    """Whether a person switches ``environment`` by hand for any of these windows."""
    if not window_ids:
        return False
    stmt = select(WindowEnvironment.window_id).where(
        WindowEnvironment.environment == environment,
        WindowEnvironment.window_id.in_(list(window_ids)),
        WindowEnvironment.by_hand.is_(True),
    )
    return session.scalars(stmt.limit(1)).first() is not None


def window_environments(
    session: Session, environment: str, statuses: Iterable[str]
) -> Sequence[WindowEnvironment]:
    """The per-window rows of ``environment`` in the given statuses (by the status index)."""
    stmt = (
        select(WindowEnvironment)
        .where(*_rows_in_statuses(environment, statuses))
        .order_by(WindowEnvironment.window_id)
    )
    return session.scalars(stmt).all()


def environments_in_play(
    session: Session,
    window_states: Iterable[str],
    row_statuses: Iterable[str],
    now: datetime,
    *,
    early_status: str | None = None,
) -> set[str]:
    """Environments with a holding window, a pending restore, a held baseline, an owed
    Activity comment or a write that may still land.

    Five lookups, each through its own index (window state, row status, held baselines, owed
    comments, late writes).
    """
    holders = select(Window.id).where(Window.state.in_(list(window_states)))
    holding = select(WindowEnvironment.environment).where(WindowEnvironment.window_id.in_(holders))
    waiting = select(WindowEnvironment.environment).where(
        WindowEnvironment.status.in_(list(row_statuses))
    )
    held = select(Baseline.environment).where(Baseline.released_at.is_(None))
    commenting = select(RemoteWrite.environment).where(RemoteWrite.status == _OWED)
    late = select(RemoteWrite.environment).where(RemoteWrite.late_until > now)
    parts = [holding, waiting, held, commenting, late]
    if early_status is not None:  # a checklist opened before its window's start
        parts.append(
            select(WindowEnvironment.environment).where(WindowEnvironment.status == early_status)
        )
    return set(session.scalars(union(*parts)).all())


def held_baseline(session: Session, environment: str, *, lock: bool = False) -> Baseline | None:
    """The baseline taken before the first window that still holds ``environment``,
    optionally locked for update (and read as it is once the lock is ours)."""
    stmt = select(Baseline).where(
        Baseline.environment == environment, Baseline.released_at.is_(None)
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def acquire_lease(
    session: Session, environment: str, owner: str, now: datetime, ttl: timedelta
) -> int | None:
    """Take the environment's lease if free or expired; return its epoch, or None if busy.

    One ``UPDATE … RETURNING`` (an ``INSERT … ON CONFLICT DO NOTHING`` the first time).
    """
    free = or_(
        EnvironmentLease.owner.is_(None),
        EnvironmentLease.owner == owner,
        EnvironmentLease.lease_until.is_(None),
        EnvironmentLease.lease_until <= now,
    )
    taken = session.scalar(
        update(EnvironmentLease)
        .where(EnvironmentLease.environment == environment, free)
        .values(owner=owner, lease_until=now + ttl, epoch=EnvironmentLease.epoch + 1)
        .returning(EnvironmentLease.epoch)
    )
    if taken is not None:
        return int(taken)
    first = session.scalar(
        insert_new(session, EnvironmentLease, "environment", returning="epoch"),
        {"environment": environment, "owner": owner, "lease_until": now + ttl, "epoch": 1},
    )
    return None if first is None else int(first)


def released_leases(session: Session, environments: Iterable[str]) -> dict[str, int]:
    """Of ``environments``, those whose lease was given back (or never taken), with its epoch.

    A lease that merely ran out is not among them: its holder may still be at work. A later
    ``acquire_lease`` returns the epoch plus one only if nobody took the lease in between (see
    bot.services.read_ahead)."""
    wanted = sorted(set(environments))
    if not wanted:
        return {}
    rows = session.execute(
        select(EnvironmentLease.environment, EnvironmentLease.owner, EnvironmentLease.epoch).where(
            EnvironmentLease.environment.in_(wanted)
        )
    ).all()
    held = {env for env, owner, _epoch in rows if owner is not None}
    epochs = {env: int(epoch) for env, _owner, epoch in rows}
    return {env: epochs.get(env, 0) for env in wanted if env not in held}


def renew_lease(
    session: Session, environment: str, owner: str, epoch: int, *, now: datetime, ttl: timedelta
) -> bool:
    """Extend the lease if this owner still holds that epoch; False if it was taken over."""
    result = session.execute(
        update(EnvironmentLease)
        .where(
            EnvironmentLease.environment == environment,
            EnvironmentLease.owner == owner,
            EnvironmentLease.epoch == epoch,
        )
        .values(lease_until=now + ttl)
    )
    return bool(getattr(result, "rowcount", 0))


def release_lease(session: Session, environment: str, owner: str, epoch: int) -> bool:
    """Give the lease back if this owner still holds that epoch."""
    result = session.execute(
        update(EnvironmentLease)
        .where(
            EnvironmentLease.environment == environment,
            EnvironmentLease.owner == owner,
            EnvironmentLease.epoch == epoch,
        )
        .values(owner=None, lease_until=None)
    )
    return bool(getattr(result, "rowcount", 0))


def pending_writes(session: Session, environment: str) -> Sequence[RemoteWrite]:
    """Intents that were never settled (their writer died or lost its lease).

    ``'pending'`` is written into the statement, not bound, so that the partial index of the
    writes in flight is usable however the database plans (PostgreSQL's generic plans too).
    """
    pending = literal("pending", literal_execute=True)
    stmt = select(RemoteWrite).where(
        RemoteWrite.environment == environment, RemoteWrite.status == pending
    )
    return session.scalars(stmt).all()


def writes_that_may_land(
    session: Session, environment: str, now: datetime
) -> Sequence[RemoteWrite]:
    """Schedule writes on ``environment`` that may still reach Coursedog (a send whose
    answer was lost), oldest first."""
    stmt = (
        select(RemoteWrite)
        .where(RemoteWrite.environment == environment, RemoteWrite.late_until > now)
        .order_by(RemoteWrite.id)
    )
    return session.scalars(stmt).all()


def newest_applied_write(
    session: Session, environment: str, *, after_id: int
) -> RemoteWrite | None:
    """The newest schedule write on ``environment`` verified applied, if newer than
    ``after_id``."""
    stmt = (
        select(RemoteWrite)
        .where(
            RemoteWrite.environment == environment,
            RemoteWrite.operation == "write_schedule",
            RemoteWrite.status == "applied",
            RemoteWrite.id > after_id,
        )
        .order_by(RemoteWrite.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def forget_late_write(session: Session, intent_id: int) -> None:
    """A write that landed late (and was undone) is watched for no longer."""
    session.execute(update(RemoteWrite).where(RemoteWrite.id == intent_id).values(late_until=None))


def owed_comments(session: Session, environment: str, *, limit: int) -> Sequence[RemoteWrite]:
    """Activity comments recorded with their outcome and not yet posted, oldest first."""
    stmt = (
        select(RemoteWrite)
        .where(RemoteWrite.environment == environment, RemoteWrite.status == _OWED)
        .order_by(RemoteWrite.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def owed_comment_environments(session: Session, window_id: int) -> set[str]:
    """Environments owed an Activity comment about ``window_id``."""
    stmt = select(RemoteWrite.environment).where(
        RemoteWrite.window_id == window_id, RemoteWrite.status == _OWED
    )
    return set(session.scalars(stmt).all())


def claim_notice(
    session: Session,
    dedup_key: str,
    channel: str,
    thread_ts: str | None,
    now: datetime,
    *,
    stale_after: timedelta | None = None,
) -> int | None:
    """Reserve a notice key; its row's id, or None when it was already posted (or is being
    posted). One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` when the key is new.

    With ``stale_after``, a claim that never got its ts that long after it was made (its
    poster died between the claim and the post) is taken over.
    """
    claimed = session.scalar(
        insert_new(session, SlackNotice, "dedup_key", returning="id"),
        {"dedup_key": dedup_key, "channel": channel, "thread_ts": thread_ts, "created_at": now},
    )
    if claimed is not None or stale_after is None:
        return None if claimed is None else int(claimed)
    return session.scalar(
        update(SlackNotice)
        .where(
            SlackNotice.dedup_key == dedup_key,
            SlackNotice.ts.is_(None),
            SlackNotice.created_at < now - stale_after,
        )
        .values(created_at=now)
        .returning(SlackNotice.id)
    )


def settle_notice(session: Session, notice_id: int, ts: str) -> None:
    """A claimed notice was posted: keep its ts (a later claim of its key finds it posted)."""
    session.execute(update(SlackNotice).where(SlackNotice.id == notice_id).values(ts=ts))


def free_notice(session: Session, notice_id: int) -> None:
    """A claimed notice was not posted: free its key so that a later attempt may post it."""
    session.execute(delete(SlackNotice).where(SlackNotice.id == notice_id))


def owe_reports(
    session: Session, reports: Iterable[tuple[str, dict[str, Any]]], now: datetime
) -> None:
    """Keep reports (dedup key, payload) until Slack has them; a known key is kept once.

    One ``INSERT ... ON CONFLICT DO NOTHING`` each: a key another replica owes already costs
    neither a savepoint nor an error.
    """
    stmt = insert_new(session, PendingReport, "dedup_key")
    for key, payload in reports:
        session.execute(stmt, {"dedup_key": key, "payload": payload, "created_at": now})


def owed_reports(session: Session, limit: int = 50) -> Sequence[PendingReport]:
    """Reports not yet known to be posted, oldest first."""
    stmt = select(PendingReport).order_by(PendingReport.id).limit(limit)
    return session.scalars(stmt).all()


def settle_report(session: Session, key: str, *, posted_only: bool = True) -> None:
    """Forget an owed report: once its notice is posted, or unconditionally."""
    stmt = delete(PendingReport).where(PendingReport.dedup_key == key)
    if posted_only:
        posted = (SlackNotice.dedup_key == key) & SlackNotice.ts.is_not(None)
        stmt = stmt.where(exists().where(posted))
    session.execute(stmt)


def windows_in(
    session: Session,
    states: Iterable[str],
    *,
    newest_first: bool = False,
    limit: int = 20,
) -> Sequence[Window]:
    """Windows in ``states``, by number."""
    order = Window.id.desc() if newest_first else Window.id
    stmt = select(Window).where(Window.state.in_(list(states))).order_by(order).limit(limit)
    return session.scalars(stmt).all()


def cards_owed(
    session: Session, state: str, requested_before: datetime, *, limit: int = 50
) -> Sequence[Window]:
    """Windows in ``state`` made before ``requested_before`` whose card was never attached,
    oldest first; a series' occurrences are posted by the series. Found by the state index."""
    stmt = (
        select(Window)
        .where(
            Window.state == state,
            Window.card_ts.is_(None),
            Window.series_id.is_(None),
            Window.requested_at < requested_before,
        )
        .order_by(Window.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def attach_card(session: Session, window_id: int, channel: str, ts: str) -> None:
    """Remember where a window's card was posted."""
    session.execute(
        update(Window)
        .where(Window.id == window_id)
        .values(channel_id=channel, card_ts=ts, version=Window.version + 1)
    )


def history(session: Session, environment: str | None, limit: int) -> Sequence[AuditEvent]:
    """The newest audit events, for one environment (its own and its windows') or all."""
    stmt = select(AuditEvent)
    if environment is not None:
        covering = select(WindowEnvironment.window_id).where(
            WindowEnvironment.environment == environment
        )
        stmt = stmt.where(
            (AuditEvent.environment == environment) | AuditEvent.window_id.in_(covering)
        )
    return session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit)).all()
