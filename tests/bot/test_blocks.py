"""Every rendered message is valid Block Kit with a plain-text fallback."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, ConfirmObject

from bot.config import parse_settings
from bot.domain.blackouts import Blackout
from bot.domain.help_topics import TOPICS
from bot.domain.recurrence import Recurrence
from bot.domain.series_states import SeriesState
from bot.domain.states import WindowState
from bot.errors import InputError
from bot.services.conflicts import COUNTED, SHOWN, Overlap, Overlaps
from bot.services.reports import Report, ReportKind
from bot.services.series_view import OccurrenceLine, SeriesView
from bot.services.status import EnvironmentStatus, HistoryEntry
from bot.services.views import SYSTEM, EnvironmentView, WindowView
from bot.slack import ids, messages
from bot.slack.blocks import card_text, occurrence_lines, render_card
from bot.slack.button_values import WindowButton
from bot.slack.help_blocks import help_blocks
from bot.slack.messages import render_report
from bot.slack.overview import render_history, render_status, render_windows
from bot.slack.payloads import parse_window_action
from bot.slack.series_blocks import (
    render_blackouts,
    render_series_card,
    render_series_list,
    series_card_text,
)
from bot.slack.text import escape, list_time, local_time, slack_time
from coursedog.models import Schedule
from tests.harness import settings_document

LABELS = {"prod": "Production"}
NOW = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def view(state: WindowState, reason: str = "Banner patch") -> WindowView:
    start = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    return WindowView(
        id=3,
        state=state,
        requester_id="U0REQUEST1",
        reason=reason,
        ticket="INC-42",
        environments=(EnvironmentView("prod", "off", None),),
        requested_at=start,
        starts_at=None if state == WindowState.REQUESTED else start,
        ends_at=None if state == WindowState.REQUESTED else start + timedelta(hours=2),
        duration=timedelta(hours=2),
        time_zone="America/Chicago",
        decided_by=None if state == WindowState.REQUESTED else "U0APPROVE1",
        decided_at=None,
        ended_by=None,
        ended_at=None,
        failure_reason="prod: timeout" if state == WindowState.FAILED else None,
        channel_id="C0APPROVALS",
        card_ts="1.1",
    )


def assert_valid(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= 50
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None
        parsed.validate_json()


@pytest.mark.parametrize("state", list(WindowState))
def test_card_in_every_state_is_valid(state: WindowState) -> None:
    assert_valid(render_card(view(state), LABELS, NOW))
    assert "MW-3" in card_text(view(state))


@pytest.mark.parametrize(
    ("ended_by", "late", "says"),
    [
        ("U0REQUEST1", HOUR, "ended by <@U0REQUEST1>"),
        (SYSTEM, timedelta(0), "ended at its scheduled time"),
        (SYSTEM, timedelta(seconds=30), "ended at its scheduled time"),
        (SYSTEM, -HOUR, "ended by sis-maint"),  # sis-maint ended it before its end
    ],
)
def test_the_card_and_lists_say_who_or_what_ended_a_window(
    ended_by: str, late: timedelta, says: str
) -> None:
    ended = view(WindowState.ENDED)
    assert ended.ends_at is not None
    ended = replace(ended, ended_by=ended_by, ended_at=ended.ends_at + late)
    for blocks in (render_card(ended, LABELS, NOW), render_windows({"recent": [ended]}, NOW)):
        assert_valid(blocks)
        assert says in str(blocks) and "<@system>" not in str(blocks)


def test_an_ended_window_shows_when_it_ended_and_the_plan_it_left() -> None:
    ended = view(WindowState.ENDED)
    assert ended.ends_at is not None
    early = ended.ends_at - 40 * timedelta(minutes=1)
    ended = replace(ended, ended_by="U0REQUEST1", ended_at=early)
    card = str(render_card(ended, LABELS, NOW))
    assert f"*Ended*\\n{slack_time(early, 'America/Chicago')}" in card and "*End*" not in card
    assert f"planned for {slack_time(ended.ends_at, 'America/Chicago')}" in card
    listed = str(render_windows({"recent": [ended]}, NOW))
    assert f"→ {list_time(early, 'America/Chicago', NOW)} (planned end " in listed

    on_time = replace(ended, ended_at=ended.ends_at + timedelta(seconds=20))
    assert "planned" not in str(render_card(on_time, LABELS, NOW))
    assert "planned" not in str(render_windows({"recent": [on_time]}, NOW))
    assert f"*End*\\n{slack_time(ended.ends_at, 'America/Chicago')}" in str(
        render_card(view(WindowState.ACTIVE), LABELS, NOW)
    )


@pytest.mark.parametrize("topic", [None, *(t.name for t in TOPICS)])
def test_help_is_valid(topic: str | None) -> None:
    text, blocks = help_blocks(topic, parse_settings(settings_document("http://127.0.0.1:1")))
    assert_valid(blocks)
    assert text.startswith("sis-maint ") and "`" not in text


@pytest.mark.parametrize("kind", list(ReportKind))
def test_every_report_renders(kind: ReportKind) -> None:
    text = render_report(
        Report(3, "prod", kind, Schedule(True, True), Schedule(False, False), "MW-4"), LABELS
    )
    assert "`prod` (Production)" in text and len(text) < 3000


def test_a_restore_that_found_the_schedule_as_recorded_says_nothing_was_written() -> None:
    on = Schedule(True, True)
    written = render_report(Report(3, "prod", ReportKind.RESTORED, Schedule(False, False), on), {})
    found = render_report(Report(3, "prod", ReportKind.RESTORED, on, on), {})
    assert "(during the window: nightly off, real-time off)" in written
    assert "schedule restored and verified" in found and "during the window:" not in found
    assert "nothing had to be written now" in found


def test_user_text_cannot_mention_everyone_or_forge_links() -> None:
    blocks = render_card(
        view(WindowState.REQUESTED, "<!channel> see <https://evil.example|docs> & go"), LABELS, NOW
    )
    text = str(blocks)
    assert "<!channel>" not in text and "<https://evil" not in text
    assert escape("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"


def test_times_show_local_offset_and_slack_token() -> None:
    when = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
    assert local_time(when, "America/Chicago") == "Sat 5 Dec 2026 22:00 CST (UTC-06:00)"
    assert slack_time(when, "America/Chicago").startswith(f"<!date^{int(when.timestamp())}^")


def test_overdue_card_says_so() -> None:
    late = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    assert "Overdue" in str(render_card(view(WindowState.ACTIVE), LABELS, late))
    assert "Overdue" not in str(render_card(view(WindowState.ACTIVE), LABELS, NOW))
    assert "Overdue" not in str(render_card(view(WindowState.ENDED), LABELS, late))


def test_every_thread_message_with_buttons_is_valid() -> None:
    active = view(WindowState.ACTIVE)
    for text in (
        messages.remind_end(active, late=True),
        messages.overdue(active, 3, ["U0APPROVE1"], late=False),
    ):
        assert_valid(messages.with_choices(active, text))
    for text in (
        messages.remind_start(view(WindowState.APPROVED), "1h", late=False),
        messages.started(active, late=False),
        messages.missed(active),
        messages.expired(active),
        messages.auto_ended(active, late=False),
        messages.escalation(active),
        messages.extended(active, "U0REQUEST1", "30m"),
    ):
        assert_valid([{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def test_status_list_and_history_blocks_are_valid() -> None:
    statuses = [
        EnvironmentStatus(
            "prod", Schedule(False, False), None, (view(WindowState.ACTIVE),), Schedule(True, True)
        ),
        EnvironmentStatus("staging", None, "Coursedog answered 503", (), None),
    ]
    assert_valid(render_status(statuses, LABELS, NOW, "America/Chicago"))
    groups = {"active": [view(WindowState.ACTIVE)] * 15, "upcoming": [], "recent": []}
    assert_valid(render_windows(groups, NOW))
    entries = [HistoryEntry(NOW, "U0REQUEST1", "requested", 3, "prod", "x" * 200)] * 50
    blocks = render_history(entries, "prod", "America/Chicago", NOW)
    assert_valid(blocks)
    assert len(blocks) > 2  # long histories are split across sections under Slack's limit


def _statuses(count: int, error: str = "") -> list[EnvironmentStatus]:
    """``count`` environments with merges on, or each unread with its own ``error``."""
    return [
        EnvironmentStatus(
            f"college-{i:03}",
            None if error else Schedule(True, True),
            f"{error} {i}" if error else None,
            (),
            None,
        )
        for i in range(count)
    ]


def test_status_shows_up_to_ten_environments_a_section_each_and_sums_up_more() -> None:
    ten = render_status(_statuses(10), LABELS, NOW, "America/Chicago")
    assert len(ten) == 12 and ten[1]["text"]["text"].startswith("*`college-000`* college-000\n")
    eleven = render_status(_statuses(11), LABELS, NOW, "America/Chicago")
    assert len(eleven) == 3
    assert eleven[1]["text"]["text"] == (
        "*11 of 11:* "
        + ", ".join(f"`college-{i:03}`" for i in range(11))
        + "\n:large_green_circle: nightly on, real-time on"
    )


def test_status_of_many_environments_each_in_its_own_state_stays_within_slacks_limits() -> None:
    statuses = _statuses(200, "Coursedog answered 503 " + "x" * 400)
    blocks = render_status(statuses, LABELS, NOW, "America/Chicago")
    assert_valid(blocks)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert 0 < len(sections) <= 20 and sum(map(len, sections)) <= 12_000
    more = blocks[-2]["elements"][0]["text"]
    assert more.startswith(
        f"{200 - len(sections)} more in other states: `college-{len(sections):03}`, "
    )
    assert more.endswith(" more. `/sis-maint status <env>` shows one.") and len(more) <= 3000


def test_status_of_many_environments_held_by_one_window_shares_one_section() -> None:
    held = view(WindowState.ACTIVE)
    statuses = [
        EnvironmentStatus(s.name, Schedule(False, False), None, (held,), Schedule(True, False))
        for s in _statuses(300)
    ]
    blocks = render_status(statuses, LABELS, NOW, "America/Chicago")
    assert_valid(blocks)
    [shared] = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    names, *lines = shared.split("\n")
    assert names.startswith("*300 of 300:* `college-000`, ") and names.endswith(" more")
    assert len(names) < 400 and lines[0] == ":no_entry: nightly off, real-time off"
    assert lines[1].startswith("Held off by *MW-3* (active)")
    assert lines[2] == "Restores to: nightly on, real-time off"


def series(state: SeriesState) -> SeriesView:
    rule = Recurrence("FREQ=WEEKLY;BYDAY=SU", datetime(2027, 3, 7, 2, 30), "America/Chicago", HOUR)
    lines = tuple(
        OccurrenceLine(o, 4 if i == 0 else None, "approved" if i == 0 else None)
        for i, o in enumerate(rule.upcoming(datetime(2027, 3, 1, tzinfo=UTC), 3))
    )
    return SeriesView(
        id=2,
        state=state,
        requester_id="U0REQUEST1",
        environments=("prod",),
        reason="<!here> weekly",
        ticket="CHG-1",
        recurrence=rule,
        skipped=frozenset({date(2027, 3, 28)}),
        requested_at=NOW,
        decided_by=None if state == SeriesState.REQUESTED else "U0APPROVE1",
        decided_at=None,
        ended_by="U0REQUEST1" if state == SeriesState.ENDED else None,
        edited_by="U0REQUEST1",
        override_by="U0APPROVE1",
        override_reason="vendor slot",
        overridden=("config:Registration",),
        channel_id="C0APPROVALS",
        card_ts="2.2",
        upcoming=lines if state in (SeriesState.REQUESTED, SeriesState.APPROVED) else (),
    )


@pytest.mark.parametrize("state", list(SeriesState))
def test_series_card_in_every_state_is_valid(state: SeriesState) -> None:
    blocks = render_series_card(series(state), LABELS, timedelta(days=7))
    assert_valid(blocks)
    assert "S-2" in series_card_text(series(state)) and "<!here>" not in str(blocks)
    has_buttons = any(b["type"] == "actions" for b in blocks)
    assert has_buttons == (state == SeriesState.REQUESTED)


def test_a_series_card_says_why_the_bot_withdrew_it() -> None:
    withdrawn = replace(series(SeriesState.ENDED), decided_by=None, ended_by=SYSTEM)
    text = str(render_series_card(withdrawn, LABELS, timedelta(days=7)))
    assert "ended by sis-maint, because its approval card could not be posted" in text
    assert "<@system>" not in text


def test_series_card_shows_moved_occurrences_windows_and_skips() -> None:
    text = str(render_series_card(series(SeriesState.APPROVED), LABELS, timedelta(days=7)))
    assert "Sun 7 Mar 2027 02:30 CST (UTC-06:00)> (MW-4, approved)" in text
    assert "Sun 14 Mar 2027 03:30 CDT" in text and "02:30 does not exist" in text
    assert "Skipped: Sun 28 Mar 2027" in text and "overridden by <@U0APPROVE1>" in text


def test_series_list_blackouts_and_occurrence_lines_are_valid() -> None:
    assert_valid(render_series_list([series(SeriesState.APPROVED)] * 10, NOW))
    assert_valid(render_series_list([], NOW))
    period = Blackout("B-3", "Grades", NOW, NOW + timedelta(days=1), "America/Chicago")
    configured = Blackout("config:Reg", "Reg", NOW, NOW + timedelta(days=2), "America/Chicago")
    text = str(render_blackouts([configured, period], NOW))
    assert_valid(render_blackouts([configured, period], NOW))
    assert "configuration file · *Reg*" in text and "*B-3* · *Grades*" in text
    assert_valid(render_blackouts([], NOW))
    occurrence = replace(
        view(WindowState.APPROVED),
        series_id=2,
        override_by="U0APPROVE1",
        override_reason="vendor",
        overridden="Reg (…)",
    )
    other = replace(view(WindowState.ACTIVE), id=5)
    blocks = render_card(occurrence, LABELS, NOW, overlaps=Overlaps((Overlap.of(other),), 1))
    assert_valid(blocks)
    text = str(blocks)
    assert "occurrence of series S-2" in text and "Overlaps MW-5 on `prod`" in text
    assert "Inside the blackout period Reg (…): overridden by <@U0APPROVE1>" in text


def test_overlaps_beyond_the_count_are_said_to_be_at_least_so_many() -> None:
    shown = tuple(
        Overlap.of(replace(view(WindowState.REQUESTED), id=n)) for n in range(2, 2 + SHOWN)
    )
    some = occurrence_lines(view(WindowState.REQUESTED), Overlaps(shown, SHOWN + 3))
    assert some[-1].count("MW-") == SHOWN and "; and 3 more." in some[-1]
    many = occurrence_lines(view(WindowState.REQUESTED), Overlaps(shown, COUNTED))
    assert f"; and at least {COUNTED - SHOWN} more." in many[-1]


def card_buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


DESTRUCTIVE = {ids.END_NOW, ids.REENABLE, ids.DENY, ids.CANCEL}


def assert_confirms_valid(buttons: dict[str, dict[str, Any]]) -> None:
    """Each destructive button asks first, with a dialog Slack accepts; no other button does."""
    for action_id, button in buttons.items():
        if action_id not in DESTRUCTIVE:
            assert "confirm" not in button, action_id
            continue
        dialog = button["confirm"]
        assert dialog["style"] == "danger"
        assert {
            k: dialog[k]["type"] for k in ("title", "text", "confirm", "deny")
        } == dict.fromkeys(("title", "text", "confirm", "deny"), "plain_text")
        ConfirmObject(**dialog).validate_json()
        assert "MW-3" in dialog["title"]["text"] and "prod" in dialog["text"]["text"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (WindowState.REQUESTED, [ids.APPROVE, ids.DENY, ids.CANCEL]),
        (WindowState.APPROVED, [ids.CANCEL]),
        (WindowState.ACTIVE, [ids.EXTEND_60, ids.END_NOW]),
        (WindowState.FAILED, [ids.EXTEND_60, ids.END_NOW]),
        (WindowState.ENDED, []),
        (WindowState.DENIED, []),
        (WindowState.CANCELLED, []),
        (WindowState.EXPIRED, []),
    ],
)
def test_the_card_keeps_the_buttons_that_apply_and_destructive_ones_ask_first(
    state: WindowState, expected: list[str]
) -> None:
    shown = view(state)
    blocks = render_card(shown, LABELS, NOW)
    assert_valid(blocks)
    buttons = card_buttons(blocks)
    assert list(buttons) == expected
    assert_confirms_valid(buttons)
    if ids.EXTEND_60 in buttons:  # Extend carries the end it extends; the others only the window
        assert shown.ends_at is not None
        assert buttons[ids.EXTEND_60]["value"] == f"3@{int(shown.ends_at.timestamp())}"
    assert all(b["value"] == "3" for a, b in buttons.items() if a != ids.EXTEND_60)


def test_the_thread_end_choices_ask_before_re_enabling() -> None:
    active = view(WindowState.ACTIVE)
    buttons = card_buttons([messages.end_choices(active)])
    assert list(buttons) == [ids.EXTEND_30, ids.EXTEND_60, ids.REENABLE]
    assert_confirms_valid(buttons)
    assert buttons[ids.REENABLE]["confirm"]["confirm"]["text"] == "Re-enable now"


def test_a_confirm_too_long_for_slack_is_refused_by_the_check() -> None:
    # The check above can fail: Slack caps a dialog's text at 300 characters.
    dialog = card_buttons(render_card(view(WindowState.ACTIVE), LABELS, NOW))[ids.END_NOW]
    too_long = {**dialog["confirm"], "text": {"type": "plain_text", "text": "x" * 301}}
    with pytest.raises(SlackObjectFormationError):
        ConfirmObject(**too_long).validate_json()


def test_extend_buttons_carry_the_end_they_extend_and_parse_back() -> None:
    end = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    block = messages.end_choices(replace(view(WindowState.ACTIVE), id=7, ends_at=end))
    values = {e["action_id"]: e["value"] for e in block["elements"]}
    stamp = int(end.timestamp())
    assert values == {ids.EXTEND_30: f"7@{stamp}", ids.EXTEND_60: f"7@{stamp}", ids.REENABLE: "7"}

    def body(value: str) -> dict[str, object]:
        return {"actions": [{"value": value, "action_id": ids.EXTEND_30}], "user": {"id": "U1"}}

    assert parse_window_action(body(WindowButton.showing(7, end).encode())).shown_end == stamp
    assert parse_window_action(body("7")).shown_end is None
    for bad in ("7@", "7@x", "7@99999999999", "@5", "7@5@6"):
        with pytest.raises(InputError):
            parse_window_action(body(bad))


def test_a_report_kept_in_the_ledger_comes_back_the_same() -> None:
    report = Report(
        3,
        "prod",
        ReportKind.OFF_FAILED,
        before=Schedule(True, False),
        after=None,
        detail="Coursedog answered 503",
        window_state="failed",
        occurrence=12,
        text="paste me",
    )
    again = Report.from_payload(report.to_payload())
    assert again == report and again.dedup_key == report.dedup_key
