"""One thread message for many environments of a window: a summary line, and who needs a
person (their own messages, with their buttons, follow it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.states import WindowState as S
from bot.services.reports import MERGES_OFF as OFF
from bot.services.reports import NEEDS_A_PERSON, Report, ReportKind
from bot.slack.text import escape

# From this many routine outcomes of one kind in one batch, a window's thread gets one line.
COMPACT_FROM = 3
DETAIL_CHARS = 80

BACK = (ReportKind.RESTORED, ReportKind.NOTHING_TO_RESTORE)
# Told in a message of their own, with their buttons: a checklist is one too.
NEEDS_PERSON = NEEDS_A_PERSON | {ReportKind.ASSISTED}


@dataclass(frozen=True)
class Summary:
    """Routine outcomes of one phase (off, or back) of one window, told in one message."""

    window_id: int
    reports: tuple[Report, ...]
    # The same batch's outcomes on this window that a person must act on.
    needing: tuple[Report, ...]

    @property
    def keys(self) -> list[str]:
        """The dedup keys of the reports it tells."""
        return [r.dedup_key for r in self.reports]

    @property
    def off(self) -> bool:
        """Whether it tells of merges switched off (else of schedules restored)."""
        return self.reports[0].kind in OFF


def split(reports: Sequence[Report]) -> tuple[list[Summary], list[Report]]:
    """The summaries to post, and the reports still told one by one."""
    summaries: list[Summary] = []
    told: set[int] = set()
    windows = sorted({r.window_id for r in reports if r.window_id is not None})
    for window_id in windows:
        mine = [r for r in reports if r.window_id == window_id]
        needing = tuple(r for r in mine if r.kind in NEEDS_PERSON)
        for kinds in (OFF, BACK):
            routine = [r for r in mine if r.kind in kinds]
            if len(routine) >= COMPACT_FROM:
                summaries.append(Summary(window_id, tuple(routine), needing))
                told.update(id(r) for r in routine)
    return summaries, [r for r in reports if id(r) not in told]


def render_summary(summary: Summary, total: int) -> str:
    """``MW-4: 48 of 50 environments switched off and verified ...; 2 need a person: ...``."""
    done = len(summary.reports)
    count = {kind: sum(r.kind is kind for r in summary.reports) for kind in (*OFF, *BACK)}
    number = f"MW-{summary.window_id}"
    if summary.off:
        parts = _counted(
            (count[ReportKind.SWITCHED_OFF], "switched off"),
            (count[ReportKind.VERIFIED_OFF], "found off"),
            (count[ReportKind.ALREADY_OFF], "had no merge on"),
        )
        text = (
            f":no_entry: {number}: {done} of {total} environments have merges off, verified "
            f"by reading back ({parts})."
        )
    else:
        parts = _counted(
            (count[ReportKind.RESTORED], "restored"),
            (count[ReportKind.NOTHING_TO_RESTORE], "had nothing to restore"),
        )
        text = (
            f":white_check_mark: {number}: {done} of {total} environments are back as they "
            f"were, verified by reading back ({parts}). Edits made in Coursedog during the "
            "window reach the SIS with the next merge; the bot reports it here."
        )
    names = ", ".join(f"`{r.environment}`" for r in sorted(summary.reports, key=_env))
    text += f"\n{names}"
    needing = sorted({r.environment: r for r in summary.needing}.values(), key=_env)
    if needing:
        who = ", ".join(f"`{r.environment}` ({_short(r)})" for r in needing)
        text += f"\n:warning: {len(needing)} need a person: {who}. Each is below."
    if any(r.window_state == S.ACTIVE for r in summary.reports):
        text += "\nThe window is back in effect."
    return text


def _counted(*parts: tuple[int, str]) -> str:
    return ", ".join(f"{n} {words}" for n, words in parts if n)


def _env(report: Report) -> str:
    return report.environment


def _short(report: Report) -> str:
    detail = report.detail or report.kind.value.replace("_", " ")
    if len(detail) > DETAIL_CHARS:
        detail = detail[: DETAIL_CHARS - 1].rstrip() + "…"
    return escape(detail)
