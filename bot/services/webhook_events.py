"""The events webhook endpoints hear of, written in the caller's transaction.

A window's moves are told by the service that makes them (``window_event``); the outcomes on
an environment (switched off, restored, needs a person) by the reports the same transaction
owes Slack (``reported``, from bot.services.outbox.owe). Either way the event commits with
the change or not at all, and bot.services.webhook_ledger delivers it afterwards.

Each event's body is fixed here, once: every attempt sends the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.config import WebhookConfig
from bot.domain.webhooks import EventType
from bot.services.reports import NEEDS_A_PERSON, Report, ReportKind
from storage import webhooks, windows
from storage.models import Window

E, K = EventType, ReportKind

# The outcomes on an environment that make an event, and whether the bot read them back.
_OUTCOMES: dict[ReportKind, tuple[EventType, bool]] = {
    K.SWITCHED_OFF: (E.SWITCHED_OFF, True),
    K.VERIFIED_OFF: (E.SWITCHED_OFF, True),
    K.ALREADY_OFF: (E.SWITCHED_OFF, True),
    K.CONFIRMED_OFF: (E.SWITCHED_OFF, False),  # on a person's word (no API user to read)
    K.RESTORED: (E.RESTORED, True),
    K.NOTHING_TO_RESTORE: (E.RESTORED, True),
    K.LEFT_AS_IS: (E.RESTORED, True),
    K.CONFIRMED_RESTORED: (E.RESTORED, False),
    **{kind: (E.NEEDS_A_PERSON, False) for kind in NEEDS_A_PERSON},
}


# session.info: the kinds of event some configured endpoint hears (absent: every kind).
WANTED = "webhook_events_wanted"


def session_info(endpoints: Sequence[WebhookConfig]) -> dict[str, frozenset[str]]:
    """What sessions are told of the endpoints: an event no endpoint hears is not written (a
    bot with no webhooks writes none), so a change's transaction costs nothing more."""
    kinds = frozenset(t.value for t in EventType if any(e.wants(t.value) for e in endpoints))
    return {WANTED: kinds}


def window_event(
    session: Session,
    type: EventType,
    window: Window,
    now: datetime,
    *,
    actor: str,
    detail: dict[str, Any] | None = None,
    once_per: str = "",
) -> None:
    """An event about ``window`` as it stands in this transaction; ``once_per`` tells apart
    events of one type that a window can have several of (each extension)."""
    key = f"{type}:{window.id}:{once_per}"
    _add(session, type, window, now, key=key, actor=actor, environment=None, detail=detail or {})


def reported(session: Session, reports: Sequence[Report], now: datetime) -> None:
    """The events the outcomes behind ``reports`` make (none for the other reports)."""
    for report in reports:
        made = _OUTCOMES.get(report.kind)
        if made is None or report.window_id is None or not _wanted(session, made[0]):
            continue  # (a window over many environments is not read for nobody)
        window = windows.get_window(session, report.window_id)
        if window is None:
            continue
        type, verified = made
        detail = {
            "outcome": report.kind.value,
            "verified": verified,
            "before": report.before.to_dict() if report.before else None,
            "after": report.after.to_dict() if report.after else None,
            "reason": report.detail if type is E.NEEDS_A_PERSON else "",
        }
        key = "report:" + hashlib.sha256(report.dedup_key.encode()).hexdigest()[:40]
        _add(
            session,
            type,
            window,
            now,
            key=key,
            actor="system",
            environment=report.environment,
            detail=detail,
        )


def body_of(
    event_id: str,
    type: EventType,
    window: Window,
    now: datetime,
    *,
    actor: str,
    environment: str | None,
    detail: dict[str, Any],
) -> str:
    """The JSON every attempt to deliver the event sends."""
    document = {
        "id": event_id,
        "type": type.value,
        "created_at": _iso(now),
        "actor": actor,
        "environment": environment,
        "window": {
            "id": window.id,
            "label": f"MW-{window.id}",
            "state": str(window.state),
            "environments": [row.environment for row in window.environments],
            "requester": window.requester_id,
            "reason": window.reason,
            "ticket": window.ticket,
            "starts_at": _iso(window.starts_at),
            "ends_at": _iso(window.ends_at),
        },
        "detail": detail,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _add(
    session: Session,
    type: EventType,
    window: Window,
    now: datetime,
    *,
    key: str,
    actor: str,
    environment: str | None,
    detail: dict[str, Any],
) -> None:
    if not _wanted(session, type):
        return
    event_id = f"evt_{uuid.uuid4().hex}"
    body = body_of(event_id, type, window, now, actor=actor, environment=environment, detail=detail)
    webhooks.add_event(
        session,
        event_id=event_id,
        dedup_key=key,
        type=type.value,
        window_id=window.id,
        body=body,
        now=now,
    )


def _wanted(session: Session, type: EventType) -> bool:
    """Whether some endpoint hears events of ``type`` (every type, where the session was not
    told which: see session_info)."""
    wanted = session.info.get(WANTED)
    return wanted is None or type.value in wanted


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
