"""Which outcomes a requester hears of, under which key, and the one line each says
(bot.services.requester_news, bot.slack.requester_dms). Pure: no server, no ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.states import WindowState
from bot.services.reports import Report, ReportKind
from bot.services.requester_news import NEEDS_YOU, Moment, News, decision, of_report
from bot.services.views import WindowView
from bot.slack.requester_dms import render, with_thread
from coursedog.models import Schedule

ON = Schedule(nightly=True, realtime=True)
OFF = Schedule(nightly=False, realtime=False)
LINK = "https://example.slack.com/archives/C1/p1"
VIEW = WindowView(
    id=7,
    state=WindowState.ACTIVE,
    requester_id="U0REQ",
    reason="Banner",
    ticket=None,
    environments=(),
    requested_at=datetime(2026, 12, 1, tzinfo=UTC),
    starts_at=datetime(2026, 12, 1, tzinfo=UTC),
    ends_at=datetime(2026, 12, 1, 2, tzinfo=UTC),
    duration=timedelta(hours=2),
    time_zone="UTC",
    decided_by="U0APP",
    decided_at=datetime(2026, 12, 1, tzinfo=UTC),
    ended_by=None,
    ended_at=None,
    failure_reason=None,
    channel_id="C1",
    card_ts="1.000001",
)


def report(kind: ReportKind, **kw: object) -> Report:
    return Report(7, "prod", kind, before=ON, after=OFF, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "moment"),
    [
        (ReportKind.SWITCHED_OFF, Moment.OFF),
        (ReportKind.VERIFIED_OFF, Moment.OFF),
        (ReportKind.ALREADY_OFF, Moment.OFF),
        (ReportKind.CONFIRMED_OFF, Moment.OFF),
        (ReportKind.RESTORED, Moment.RESTORED),
        (ReportKind.NOTHING_TO_RESTORE, Moment.RESTORED),
        (ReportKind.CONFIRMED_RESTORED, Moment.RESTORED),
        (ReportKind.LEFT_AS_IS, Moment.RESTORED),
        *[(kind, Moment.NEEDS_YOU) for kind in sorted(NEEDS_YOU)],
        (ReportKind.OFF_FAILED, None),  # retried by the bot; told when the window fails
        (ReportKind.DRIFT_CORRECTED, None),
        (ReportKind.HANDED_OVER, None),
    ],
)
def test_each_outcome_is_one_moment_or_none(kind: ReportKind, moment: Moment | None) -> None:
    news = of_report(report(kind))
    assert (news.moment if news else None) is moment


def test_a_failed_window_needs_a_person_whatever_the_outcome() -> None:
    news = of_report(report(ReportKind.OFF_FAILED, window_state="failed"))
    assert news is not None and news.moment is Moment.NEEDS_YOU and news.failed
    assert "*needs a person*" in render(news, VIEW, {}, LINK)


def test_off_and_restored_are_told_once_per_environment_whatever_the_repeats() -> None:
    first = of_report(report(ReportKind.SWITCHED_OFF))
    again = of_report(report(ReportKind.VERIFIED_OFF, occurrence=3))
    other = of_report(replace(report(ReportKind.SWITCHED_OFF), environment="staging"))
    assert first and again and other
    assert first.key == again.key != other.key
    questions = [of_report(report(ReportKind.BASELINE_QUESTION, occurrence=n)) for n in (1, 2)]
    assert questions[0] and questions[1] and questions[0].key != questions[1].key


def test_a_report_about_no_window_tells_no_requester() -> None:
    assert of_report(replace(report(ReportKind.UNEXPLAINED_OFF), window_id=None)) is None


def test_news_survives_the_ledger_as_it_was() -> None:
    for news in (
        decision(7, Moment.DENIED, "U0APP", "frozen"),
        of_report(report(ReportKind.WRITE_REFUSED, window_state="failed")),
    ):
        assert news is not None and News.from_payload(news.to_payload()) == news


def test_who_is_sent_what() -> None:
    restored = of_report(report(ReportKind.RESTORED))
    assert restored is not None
    assert restored.goes_to(VIEW)
    assert not restored.goes_to(replace(VIEW, ended_by="U0REQ"))  # they ended it themselves
    assert restored.goes_to(replace(VIEW, ended_by="U0APP"))
    needs = of_report(report(ReportKind.RESTORE_UNRECOGNISED))
    assert needs is not None and needs.goes_to(replace(VIEW, ended_by="U0REQ"))
    assert not needs.goes_to(replace(VIEW, card_ts=None))  # the thread is their DMs already


def test_one_line_each_with_the_link() -> None:
    labels = {"prod": "Production <main>"}
    lines = [
        render(decision(7, Moment.APPROVED, "U0APP"), VIEW, labels, LINK),
        render(decision(7, Moment.DENIED, "U0APP", "a" * 600), VIEW, labels, LINK),
        *(
            render(n, VIEW, labels, LINK)
            for kind in (ReportKind.SWITCHED_OFF, ReportKind.RESTORED, ReportKind.OFF_LOCKED)
            if (n := of_report(report(kind))) is not None
        ),
    ]
    assert len(lines) == 5
    for line in lines:
        assert "\n" not in line and line.endswith(f"<{LINK}|Open the thread>.")
    approved, denied, off, restored, locked = lines
    assert "MW-7 was approved by <@U0APP>" in approved and "being switched off now" in approved
    assert "…" in denied and len(denied) < 700  # a long reason is cut
    assert "`prod` (Production &lt;main&gt;)" in off
    assert "is back to nightly off, real-time off, verified by reading back" in restored
    assert "Coursedog support must switch them off" in locked
    assert "Its thread is in <#C1>." in render(
        decision(7, Moment.APPROVED, "U0APP"), VIEW, {}, None
    )


def test_any_message_about_a_window_ends_with_its_thread_as_news_does() -> None:
    text = ":zzz: MW-7 expired."
    assert with_thread(text, VIEW, LINK) == f":zzz: MW-7 expired. <{LINK}|Open the thread>."
    assert with_thread(text, VIEW, None) == ":zzz: MW-7 expired. Its thread is in <#C1>."
    assert with_thread(text, replace(VIEW, card_ts=None), None) == text  # no card, no thread
