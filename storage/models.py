"""SQLAlchemy models of the ledger: windows, baselines, audit trail, due actions, remote writes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from storage.states import DueStatus
from storage.types import StrEnumType, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: UTC datetimes everywhere, stable constraint names."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def row_values(obj: Base) -> dict[str, Any]:
    """Every column of the row ``obj`` stands for, for a Core insert: an unset one at its
    default, as the ORM would write it (so that all rows of a table bind the same parameters),
    but for a key yet to be generated."""
    table = cast(Table, obj.__table__)
    generated = table.autoincrement_column
    row = {}
    for column in table.columns:
        value = getattr(obj, column.key)
        if value is None:
            if column is generated:
                continue
            if isinstance(column.default, ScalarElementColumnDefault):
                value = column.default.arg
            elif isinstance(column.default, CallableColumnDefault):
                # A fresh one, as the ORM makes it (``list``); the default takes no context.
                value = column.default.arg(cast(Any, None))
        row[column.key] = value
    return row


class Window(Base):
    """One requested outage over one or more environments (shown as MW-<id>)."""

    __tablename__ = "windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A WindowState; its moves: bot/domain/states.py (TRANSITIONS, with their diagram).
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    requester_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    ticket: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    # None means "as soon as it is approved"; set at approval.
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    duration_seconds: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    # Who has approved so far, in order (the last one, once enough have, is ``decided_by``),
    # and how many approvals the window needs: the most any of its environments asks for.
    approved_by: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    approvals_required: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    ended_by: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    # An occurrence of a recurring series: the series, and the local date it stands for.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"), index=True)
    occurrence_on: Mapped[date | None] = mapped_column(Date)
    # An approver's override of the blackout periods the window overlaps.
    override_by: Mapped[str | None] = mapped_column(String(64))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden: Mapped[str | None] = mapped_column(Text)

    environments: Mapped[list[WindowEnvironment]] = relationship(
        back_populates="window",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="WindowEnvironment.position",
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("series_id", "occurrence_on"),)

    @property
    def number(self) -> str:
        """The id people see and type: MW-12."""
        return f"MW-{self.id}"

    @property
    def environment_names(self) -> list[str]:
        """Environment short names in the order they were requested."""
        return [e.environment for e in self.environments]


class WindowEnvironment(Base):
    """One environment of a window and where that environment stands for this window."""

    __tablename__ = "window_environments"

    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"), primary_key=True)
    environment: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A RowStatus: pending, early, off, failed, ending, restore_failed, restored, handed_over or
    # released; its moves: bot/domain/states.py (ROW_TRANSITIONS, with their diagram).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[str | None] = mapped_column(Text)
    # A person switches this environment by hand for this window, whatever its driver (a write
    # of the bot's was refused).
    by_hand: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    window: Mapped[Window] = relationship(back_populates="environments")

    __table_args__ = (
        # The rows still owed something (a restore, say) by status: the finished ones, which
        # grow with history, are never walked to find them.
        Index("ix_window_environments_status_environment", "status", "environment"),
    )


class Baseline(Base):
    """The schedule read just before the first overlapping window switched an environment off."""

    __tablename__ = "baselines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(64))
    nightly: Mapped[bool] = mapped_column(Boolean)
    realtime: Mapped[bool] = mapped_column(Boolean)
    save_state_id: Mapped[str | None] = mapped_column(String(128))
    # When the enabled saved state changed during the window, a person decides: restore | leave.
    save_state_decision: Mapped[str | None] = mapped_column(String(16))
    save_state_decided_by: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime]
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"))
    released_at: Mapped[datetime | None]
    # When the schedule found at the start had fewer switches on than people were last seen
    # to have (switched off early by hand): what was found, what was seen and when, and how
    # sure the bot is ({"found": …, "observed": …, "observed_at": …, "ask": bool}).
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # For evidence too weak to act on, a person chooses what to restore: "open" until someone
    # does, then "observed" (switch back on what was seen) or "found" (leave as found).
    question: Mapped[str | None] = mapped_column(String(16))
    question_decided_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # At most one held baseline per environment.
        Index(
            "uq_baselines_held",
            "environment",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
    )


class ScheduleObservation(Base):
    """A stretch of time over which reads of an idle environment found the same schedule.

    A read that finds what the newest row holds moves its ``last_seen_at``; a different
    schedule starts a new row. What people had before a window is judged from these.
    """

    __tablename__ = "schedule_observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(64))
    nightly: Mapped[bool] = mapped_column(Boolean)
    realtime: Mapped[bool] = mapped_column(Boolean)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    __table_args__ = (Index("ix_schedule_observations_environment_id", "environment", "id"),)


class AuditEvent(Base):
    """Append-only record of everything that happened, with before/after where it applies.

    The database refuses UPDATE and DELETE on it (triggers), and each row is hash-chained to
    the one before (``prev_hash``, ``hash``); storage/audit_chain.py appends and verifies the chain.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    environment: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # An environment's newest event of one kind (the watchdog's last report on it): one
        # step down the index from its end, however long the trail.
        Index("ix_audit_events_environment_action_id", "environment", "action", "id"),
    )


class DueAction(Base):
    """A thing to do at a time; the scheduler's only source of truth."""

    __tablename__ = "due_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    environment: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime]
    status: Mapped[DueStatus] = mapped_column(StrEnumType(DueStatus, 16), default=DueStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    lease_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Unique: the same action planned twice is one action. Never read for arguments: those are
    # in ``payload``.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # What the action needs besides its window, by kind (bot/domain/due_payloads.py).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_due_actions_status_due_at", "status", "due_at"),)


class EnvironmentLease(Base):
    """Who may talk to an environment's Coursedog right now (one reconciler at a time)."""

    __tablename__ = "environment_leases"

    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    epoch: Mapped[int] = mapped_column(Integer, default=0)


class RemoteWrite(Base):
    """Intent row written before every remote change, settled after it."""

    __tablename__ = "remote_writes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(64), index=True)
    operation: Mapped[str] = mapped_column(String(32))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    desired: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending -> applied | failed | unknown; an Activity comment starts as owed (-> pending)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # A send whose answer was lost, and that a read then showed not applied, may still reach
    # Coursedog until this time; while it may, a restore is watched for it (None: no such send).
    late_until: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_remote_writes_in_flight",
            "environment",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_remote_writes_window_id", "window_id"),
        Index(
            "ix_remote_writes_owed",
            "environment",
            sqlite_where=text("status = 'owed'"),
            postgresql_where=text("status = 'owed'"),
        ),
        Index(
            "ix_remote_writes_late",
            "environment",
            "late_until",
            sqlite_where=text("late_until IS NOT NULL"),
            postgresql_where=text("late_until IS NOT NULL"),
        ),
    )


class SlackNotice(Base):
    """A Slack message the bot posts at most once per dedup key."""

    __tablename__ = "slack_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class CoursedogNotice(Base):
    """A notice to Coursedog support (step 1 of the runbook): emailed, or drafted for a person.

    The Message-ID is chosen when the notice is planned, so a resend after a crash carries the
    same id; an Activity comment cites it only once the notice is ``sent``.
    """

    __tablename__ = "coursedog_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    environment: Mapped[str | None] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(250))
    recipient: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    # A NoticeStatus: pending -> sent | draft -> confirmed (a person sent the draft), or a
    # draft superseded by a newer version; NOTICE_TRANSITIONS in bot/domain/states.py
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]


class AssistedStep(Base):
    """One step of a by-hand checklist (assisted driver), and who did it and how it was checked."""

    __tablename__ = "assisted_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"), index=True)
    environment: Mapped[str] = mapped_column(String(64))
    # "off" (switching merges off) or "restore"
    phase: Mapped[str] = mapped_column(String(16))
    # "nightly", "realtime", "save" or "comment"
    step: Mapped[str] = mapped_column(String(16))
    # The value the person was asked to set (switch steps); None for save and comment.
    target: Mapped[bool | None]
    position: Mapped[int] = mapped_column(Integer, default=0)
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None]
    # "read" (a read of Coursedog agreed), "confirmed" (a person's word), or None
    checked: Mapped[str | None] = mapped_column(String(16))
    # For a switch step without read access: what the person found ("was on" / "was off").
    found: Mapped[bool | None]
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("window_id", "environment", "phase", "step"),)


class Series(Base):
    """A recurring window (shown as S-<id>): approved once, each occurrence becomes a window.

    ``rule`` is an RFC 5545 RRULE; ``dtstart`` the wall time of its first occurrence in
    ``time_zone`` (ISO, without offset); ``skipped`` the local dates left out (EXDATEs).
    """

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    requester_id: Mapped[str] = mapped_column(String(64))
    environments: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    ticket: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    rule: Mapped[str] = mapped_column(String(200))
    dtstart: Mapped[str] = mapped_column(String(19))
    time_zone: Mapped[str] = mapped_column(String(64))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    # A wall-clock end (HH:MM) instead of an elapsed duration.
    ends_wall: Mapped[str | None] = mapped_column(String(5))
    skipped: Mapped[list[str]] = mapped_column(JSON)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    # As a window's: who has approved so far, and how many approvals the series needs.
    approved_by: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    approvals_required: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    ended_by: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]
    edited_by: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None]
    # An approver's override of blackout periods (their keys) that occurrences overlap.
    override_by: Mapped[str | None] = mapped_column(String(64))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden: Mapped[list[str]] = mapped_column(JSON)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    card_ts: Mapped[str | None] = mapped_column(String(32))

    __mapper_args__ = {"version_id_col": version}


class BlackoutPeriod(Base):
    """A blackout period added by an approver in Slack (shown as B-<id>)."""

    __tablename__ = "blackouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    time_zone: Mapped[str] = mapped_column(String(64))
    # Empty: every environment.
    environments: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    removed_by: Mapped[str | None] = mapped_column(String(64))
    removed_at: Mapped[datetime | None]


class ConfiguredBlackout(Base):
    """A blackout period of the configuration file as the bot last ran with it, and since when.

    The file carries no change times; this row gives the period one (the calendar feed's
    LAST-MODIFIED): ``changed_at`` moves when the period's ``fingerprint`` does.
    """

    __tablename__ = "configured_blackouts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime]


class PendingReport(Base):
    """A report on a Coursedog outcome, committed with that outcome, until Slack has it.

    Written in the same transaction as the outcome, so a crash between the two cannot lose
    what people must be told; deleted once the notice is posted (or known posted).
    """

    __tablename__ = "pending_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class StoredContract(Base):
    """An environment's write contract: how its Coursedog pages write, learned from a
    recording of them (the contract itself is JSON, as coursedog.contract writes it).

    Learning it again replaces the row and clears what a verification proved; every change
    appends a ``write_contract_learned`` audit event.
    """

    __tablename__ = "write_contracts"

    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))  # "recording"
    recording: Mapped[str] = mapped_column(String(255))  # the file's name, without its folder
    host: Mapped[str] = mapped_column(String(253))  # where the recording was made
    learned_at: Mapped[datetime]
    learned_by: Mapped[str] = mapped_column(String(64))
    # What a verification of the contract proved, and where (None until one has).
    verified_at: Mapped[datetime | None]
    verified_host: Mapped[str | None] = mapped_column(String(253))
    proof: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class ReplayKey(Base):
    """A request that has acted: its key, kept until no copy of the request could still be
    accepted (see storage.replay)."""

    __tablename__ = "replay_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # An API request with an Idempotency-Key: what it answered, for its repeats.
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class WebhookEvent(Base):
    """An event for the webhook endpoints, written in the transaction of the change it tells
    of (so none is lost and none told of a change that did not commit); its body is the exact
    JSON every attempt sends. ``fanned_out`` once a delivery row exists for each endpoint
    configured then that wants it."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    # One event per change: the same change recorded twice keeps the first.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    window_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class WebhookDelivery(Base):
    """One event owed to one endpoint: attempted until it is taken (2xx) or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, given_up
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it may be attempted next; a claimed attempt pushes it past the request's timeout,
    # so an attempt whose sender died is tried again then.
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[datetime | None]


class WebhookEndpoint(Base):
    """How one endpoint is doing: failed attempts in a row, and whether it is down (said once
    in the approvals channel per episode, and once more when it is back)."""

    __tablename__ = "webhook_endpoints"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    failing: Mapped[int] = mapped_column(Integer, default=0)
    down: Mapped[bool] = mapped_column(Boolean, default=False)
    episode: Mapped[int] = mapped_column(Integer, default=0)
    # The last notice about it that was posted ("down:<episode>" or "up:<episode>").
    told: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime | None]
