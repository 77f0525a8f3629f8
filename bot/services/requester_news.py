"""What a window's requester is told directly, owed in the ledger until Slack has it.

The requester hears, in one direct message each: that the window was approved (and by whom) or
denied (by whom, and why if the approver said), that merges on an environment are off and
verified, that its schedule is restored and verified (for three or more environments told in
one summary, one message for them all: ``together``), and anything in the thread that waits
for a person. Each piece of news is owed (``owe``) in the transaction of what it tells of, as
reports are (bot.services.outbox), so a crash between the two cannot lose it; a claim on its
key keeps it to one message however many posters try. The Slack side
(bot.slack.notifier.SlackNotifier.tell_requesters) posts what is owed.

Nothing but a denial (which no thread message tells of) is sent when the thread itself is
the requester's direct messages (a window without a card); "restored" is not sent when the
requester ended the window themselves (they asked for it and were answered; the thread has
the outcome). News that needs them is always sent. An API caller (bot.domain.actors) has no
direct messages: its window's thread, and the API, tell it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.actors import is_api
from bot.services.reports import MERGES_OFF as _OFF
from bot.services.reports import NEEDS_A_PERSON, Report, ReportKind
from bot.services.views import WindowView
from storage import pending_reports

PREFIX = "dm:"


class Moment(StrEnum):
    """The moments a requester is told of."""

    APPROVED = "approved"
    DENIED = "denied"
    OFF = "off"
    RESTORED = "restored"
    NEEDS_YOU = "needs_you"


_RESTORED = (ReportKind.RESTORED, ReportKind.NOTHING_TO_RESTORE, ReportKind.LEFT_AS_IS)
_CONFIRMED = (ReportKind.CONFIRMED_OFF, ReportKind.CONFIRMED_RESTORED)
# Outcomes whose thread message asks a person to act (check, choose, switch, comment by hand)
# or waits on Coursedog support; a window marked "needs a person" is one too, whatever the kind.
NEEDS_YOU = (
    # A failed switch marks its window "needs a person", which is told whatever the kind.
    NEEDS_A_PERSON - {ReportKind.OFF_FAILED, ReportKind.RESTORE_FAILED}
) | {ReportKind.ASSISTED, ReportKind.COMMENT_FAILED, ReportKind.COMMENT_BY_HAND}
FAILED = "failed"


@dataclass(frozen=True)
class News:
    """One thing to tell a window's requester. ``actor``: who decided; ``detail``: the reason
    of a denial, or the report kind of an outcome; ``schedule``: the switches it left."""

    window_id: int
    moment: Moment
    environment: str = ""
    actor: str = ""
    detail: str = ""
    schedule: str = ""
    failed: bool = False
    # Tells apart two pieces of news of one moment on one environment (a second question).
    tag: str = ""
    # News of many environments at once (``together``): how many of the window's ``total``
    # are done, and the environments of the same batch that need the requester.
    count: int = 0
    total: int = 0
    needing: tuple[str, ...] = ()
    # The thread report a routine outcome's news tells of: the news waits until the thread has
    # it, so that a summary there can take it into one message (``together``).
    report: str = ""

    @property
    def key(self) -> str:
        """One message per window, moment and environment (and tag, for what needs them)."""
        return f"{PREFIX}{self.window_id}:{self.moment}:{self.environment}:{self.tag}"[:200]

    def goes_to(self, view: WindowView) -> bool:
        """Whether the requester of ``view`` is to be sent this (see the module's docstring)."""
        if is_api(view.requester_id):
            return False
        if not (view.channel_id and view.card_ts):
            return self.moment is Moment.DENIED  # no thread message tells of a denial
        return not (self.moment is Moment.RESTORED and view.ended_by == view.requester_id)

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready copy, kept in the ledger until it is posted."""
        return {
            "window_id": self.window_id,
            "moment": self.moment.value,
            "environment": self.environment,
            "actor": self.actor,
            "detail": self.detail,
            "schedule": self.schedule,
            "failed": self.failed,
            "tag": self.tag,
            "count": self.count,
            "total": self.total,
            "needing": list(self.needing),
            "report": self.report,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> News:
        """The news ``to_payload`` kept."""
        return cls(
            window_id=int(data["window_id"]),
            moment=Moment(data["moment"]),
            environment=str(data.get("environment", "")),
            actor=str(data.get("actor", "")),
            detail=str(data.get("detail", "")),
            schedule=str(data.get("schedule", "")),
            failed=bool(data.get("failed", False)),
            tag=str(data.get("tag", "")),
            count=int(data.get("count", 0)),
            total=int(data.get("total", 0)),
            needing=tuple(str(env) for env in data.get("needing", ())),
            report=str(data.get("report", "")),
        )


def of_report(report: Report) -> News | None:
    """What the requester is told of an outcome, if anything."""
    if report.window_id is None:
        return None
    schedule = report.after.describe() if report.after else ""
    failed = report.window_state == FAILED
    kind = report.kind
    waits_for = report.dedup_key
    if failed or kind in NEEDS_YOU:
        tag = f"{kind}:{schedule}:{report.occurrence}"
        moment, waits_for = Moment.NEEDS_YOU, ""
    elif kind in _OFF or kind is ReportKind.CONFIRMED_OFF:
        tag, moment = "", Moment.OFF
    elif kind in _RESTORED or kind is ReportKind.CONFIRMED_RESTORED:
        tag, moment = "", Moment.RESTORED
    else:
        return None
    return News(
        report.window_id,
        moment,
        environment=report.environment,
        detail=kind.value,
        schedule=schedule,
        failed=failed,
        tag=tag,
        report=waits_for,
    )


def together(
    window_id: int, routine: Sequence[Report], needing: Sequence[Report], total: int
) -> tuple[News, list[News]] | None:
    """One piece of news for a batch's routine outcomes of one moment on a window (three or
    more, told in one summary in the thread: bot.slack.summary), keyed per window and moment,
    and the news of each environment it stands for. The environments that need the requester
    are named; their own news is still told one by one."""
    parts = [n for n in of_reports(routine) if n.moment in (Moment.OFF, Moment.RESTORED)]
    if not parts:
        return None
    news = News(
        window_id,
        parts[0].moment,
        count=len(parts),
        total=total,
        needing=tuple(sorted({r.environment for r in needing})),
    )
    return news, parts


def decision(window_id: int, moment: Moment, actor: str, reason: str = "") -> News:
    """An approval or a denial, by ``actor`` (with the approver's reason, if any)."""
    return News(window_id, moment, actor=actor, detail=reason)


def owe(session: Session, news: Iterable[News], now: datetime) -> None:
    """Keep news in the ledger, in the transaction of what it tells of, until it is posted."""
    pending_reports.owe_reports(session, [(n.key, n.to_payload()) for n in news], now)


def of_reports(reports: Sequence[Report]) -> list[News]:
    """The news in a pass's reports."""
    return [n for n in (of_report(r) for r in reports) if n is not None]


def confirmed(news: News) -> bool:
    """Done on a person's word in a checklist, not verified by reading."""
    return news.detail in {k.value for k in _CONFIRMED}
