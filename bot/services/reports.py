"""What the reconciler tells people about an environment, one window at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from coursedog.models import Schedule

log = logging.getLogger(__name__)


class ReportKind(StrEnum):
    """The outcomes worth a message in a window's thread."""

    SWITCHED_OFF = "switched_off"
    VERIFIED_OFF = "verified_off"
    ALREADY_OFF = "already_off"
    # Found switched off early by hand: what the bot will switch back on, or a question.
    SWITCHED_OFF_EARLY = "switched_off_early"
    BASELINE_QUESTION = "baseline_question"
    BASELINE_UNANSWERED = "baseline_unanswered"
    OFF_FAILED = "off_failed"
    OFF_LOCKED = "off_locked"
    OFF_UNRECOGNISED = "off_unrecognised"
    # A write refused without a reason: a person switches by hand for this window.
    WRITE_REFUSED = "write_refused"
    RESTORED = "restored"
    NOTHING_TO_RESTORE = "nothing_to_restore"
    RESTORE_FAILED = "restore_failed"
    RESTORE_LOCKED = "restore_locked"
    RESTORE_UNRECOGNISED = "restore_unrecognised"
    SAVE_STATE_CHANGED = "save_state_changed"
    LEFT_AS_IS = "left_as_is"
    HANDED_OVER = "handed_over"
    ASSISTED = "assisted"
    DRIFT_CORRECTED = "drift_corrected"
    LATE_WRITE_UNDONE = "late_write_undone"
    LATE_WRITE_NOT_UNDONE = "late_write_not_undone"
    UNEXPLAINED_OFF = "unexplained_off"
    COMMENT_FAILED = "comment_failed"
    COMMENT_BY_HAND = "comment_by_hand"
    # Assisted without read access: done on people's word, not verified by reading.
    CONFIRMED_OFF = "confirmed_off"
    CONFIRMED_RESTORED = "confirmed_restored"


# Merges off and read back so: switched off now, found off, or with none on to switch.
MERGES_OFF = (ReportKind.SWITCHED_OFF, ReportKind.VERIFIED_OFF, ReportKind.ALREADY_OFF)
# Outcomes on an environment that the bot cannot finish on its own: a switch that failed, was
# locked, refused or read a value the bot does not know, or a question only a person answers.
# The thread, the requester's news and the webhook events each start from this set.
NEEDS_A_PERSON = frozenset(
    {
        ReportKind.OFF_FAILED,
        ReportKind.OFF_LOCKED,
        ReportKind.OFF_UNRECOGNISED,
        ReportKind.WRITE_REFUSED,
        ReportKind.RESTORE_FAILED,
        ReportKind.RESTORE_LOCKED,
        ReportKind.RESTORE_UNRECOGNISED,
        ReportKind.SAVE_STATE_CHANGED,
        ReportKind.BASELINE_QUESTION,
        ReportKind.BASELINE_UNANSWERED,
    }
)


@dataclass(frozen=True)
class Report:
    """One outcome on one environment for one window."""

    window_id: int | None  # None: about the environment, not a window (goes to the channel)
    environment: str
    kind: ReportKind
    before: Schedule | None = None
    after: Schedule | None = None
    detail: str = ""
    # Set when a window changed state because of this outcome (failed, or recovered).
    window_state: str | None = None
    # Tells apart repeated outcomes of the same kind (e.g. the remote write that corrected drift).
    occurrence: int = 0
    # Text for a person to use (e.g. an Activity comment to paste by hand).
    text: str = ""

    @property
    def dedup_key(self) -> str:
        """One message per window, environment, outcome and resulting switch state."""
        after = self.after.describe() if self.after else "-"
        return (
            f"report:{self.window_id}:{self.environment}:{self.kind}:{after}:"
            f"{self.occurrence}:{self.detail[:60]}"
        )

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready copy, kept in the ledger until the report is posted."""
        return {
            "window_id": self.window_id,
            "environment": self.environment,
            "kind": self.kind.value,
            "before": _schedule(self.before),
            "after": _schedule(self.after),
            "detail": self.detail,
            "window_state": self.window_state,
            "occurrence": self.occurrence,
            "text": self.text,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Report:
        """The report ``to_payload`` kept."""
        return cls(
            window_id=data["window_id"],
            environment=data["environment"],
            kind=ReportKind(data["kind"]),
            before=_from_schedule(data.get("before")),
            after=_from_schedule(data.get("after")),
            detail=data.get("detail", ""),
            window_state=data.get("window_state"),
            occurrence=data.get("occurrence", 0),
            text=data.get("text", ""),
        )


def _schedule(schedule: Schedule | None) -> dict[str, bool] | None:
    return None if schedule is None else schedule.to_dict()


def _from_schedule(data: Mapping[str, bool] | None) -> Schedule | None:
    return None if data is None else Schedule.from_dict(data)


# Tells people (in Slack) what the reports say, settling each one posted.
Publish = Callable[[list["Report"]], None]


class Publisher:
    """Publishes a pass's reports as soon as each is committed, and each of them once.

    Without a publish function nothing is published: the caller publishes what the pass
    returns. A report that fails to go out stays owed (``pending_reports``) and is offered
    again on the next pass.
    """

    def __init__(self, publish: Publish | None) -> None:
        self._publish = publish
        self._done: list[Report] = []

    def now(self, reports: list[Report]) -> None:
        """Publish these reports at once."""
        if self._publish is None or not reports:
            return
        self._done.extend(reports)
        try:
            self._publish(reports)
        except Exception:  # the reports stay owed; the next pass posts them
            log.exception("posting %d report(s) failed; they stay owed", len(reports))

    def rest(self, found: list[Report]) -> None:
        """Publish those of ``found`` not published yet."""
        self.now([r for r in found if not any(r is done for done in self._done)])
