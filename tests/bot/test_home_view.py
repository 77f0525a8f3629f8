"""The App Home of one person (bot.slack.home_view): only their buttons, and within Slack's
limits however much there is to show."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.domain.blackouts import Blackout
from bot.domain.series_states import SeriesState
from bot.domain.states import WindowState
from bot.services.home_board import HomeBoard
from bot.services.status import EnvironmentStatus
from bot.services.views import EnvironmentView
from bot.slack import ids
from bot.slack.home_view import MAX_BLOCKS, render_home
from coursedog.models import Schedule
from tests.bot.test_blocks import series, view

NOW = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
REQUESTER, APPROVER, STRANGER = "U0REQUEST1", "U0APPROVE1", "U0STRANGER"
LABELS = {"prod": "Production"}


def board(**changes: Any) -> HomeBoard:
    empty = HomeBoard(
        now=NOW,
        statuses=(EnvironmentStatus("prod", Schedule(True, True), None, (), None),),
        active=(),
        upcoming=(),
        recent=(),
        active_total=0,
        upcoming_total=0,
        series=(),
        blackouts=(),
        approvers={("prod",): frozenset({APPROVER})},
    )
    return replace(empty, **changes)


def buttons(home: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]


def valid(home: dict[str, Any]) -> dict[str, Any]:
    View(**home).validate_json()
    assert len(home["blocks"]) <= MAX_BLOCKS
    for block in home["blocks"]:
        for text in [block.get("text") or {}, *block.get("elements", [])]:
            assert len(text.get("text", "")) <= 3000
    return home


@pytest.mark.parametrize(
    ("state", "viewer", "expected"),
    [
        (WindowState.REQUESTED, APPROVER, [ids.APPROVE, ids.DENY]),
        (WindowState.REQUESTED, REQUESTER, [ids.CANCEL]),
        (WindowState.REQUESTED, STRANGER, []),
        (WindowState.APPROVED, APPROVER, [ids.CANCEL]),
        (WindowState.APPROVED, REQUESTER, [ids.CANCEL]),
        (WindowState.APPROVED, STRANGER, []),
        (WindowState.ACTIVE, REQUESTER, [ids.EXTEND_60, ids.REENABLE]),
        (WindowState.FAILED, APPROVER, [ids.EXTEND_60, ids.REENABLE]),
        (WindowState.ACTIVE, STRANGER, []),
    ],
)
def test_a_window_shows_the_buttons_its_viewer_may_press(
    state: WindowState, viewer: str, expected: list[str]
) -> None:
    window = view(state)
    group = "active" if state in (WindowState.ACTIVE, WindowState.FAILED) else "upcoming"
    home = valid(render_home(board(**{group: (window,)}), viewer, labels=LABELS))
    assert buttons(home) == expected
    assert home["blocks"][0]["accessory"]["action_id"] == ids.HOME_NEW_REQUEST


def test_an_approver_never_decides_their_own_request() -> None:
    own = replace(view(WindowState.REQUESTED), requester_id=APPROVER)
    assert buttons(render_home(board(upcoming=(own,)), APPROVER, labels=LABELS)) == [ids.CANCEL]


def test_an_approver_of_one_environment_cannot_decide_a_window_on_two() -> None:
    both = (EnvironmentView("prod", "off", None), EnvironmentView("staging", "off", None))
    window = replace(view(WindowState.REQUESTED), environments=both)
    approvers = {("prod",): frozenset({APPROVER}), ("prod", "staging"): frozenset()}
    home = render_home(board(upcoming=(window,), approvers=approvers), APPROVER, labels=LABELS)
    assert buttons(home) == []


def test_a_series_waiting_for_a_decision_has_buttons_only_for_its_approvers() -> None:
    waiting = series(SeriesState.REQUESTED)
    home = valid(render_home(board(series=(waiting,)), APPROVER, labels=LABELS))
    assert buttons(home) == [ids.SERIES_APPROVE, ids.SERIES_DENY]
    assert "waiting for an approver" in str(home["blocks"])
    assert buttons(render_home(board(series=(waiting,)), REQUESTER, labels=LABELS)) == []
    running = valid(
        render_home(board(series=(series(SeriesState.APPROVED),)), APPROVER, labels=LABELS)
    )
    assert buttons(running) == [] and "next: <!date^" in str(running["blocks"])
    assert "as MW-4 (approved)" in str(running["blocks"])
    assert "<!here>" not in str(running["blocks"])  # people's text is escaped


def test_a_blackout_period_says_what_it_means_now_and_later() -> None:
    now_on = Blackout("B-1", "Grades due", NOW - timedelta(hours=1), NOW + timedelta(days=1), "UTC")
    later = Blackout(
        "config:Registration",
        "Registration",
        NOW + timedelta(days=9),
        NOW + timedelta(days=12),
        "UTC",
        ("prod",),
    )
    text = str(render_home(board(blackouts=(now_on, later)), STRANGER, labels=LABELS)["blocks"])
    assert ":no_entry: *Grades due* (B-1) · all environments" in text
    assert "in force now: no window may be requested until <!date^" in text
    assert ":calendar: *Registration* (configuration file) · prod" in text
    assert "a window in it will be refused" in text


def test_a_crowded_workspace_still_fits_in_one_view() -> None:
    long = "x" * 2000
    envs = tuple(
        EnvironmentStatus(f"env{n}", Schedule(True, True), None, (), None) for n in range(30)
    )
    labels = {f"env{n}": "L" * 4000 for n in range(30)}
    windows = tuple(replace(view(WindowState.REQUESTED, long), id=n) for n in range(1, 61))
    active = tuple(replace(view(WindowState.ACTIVE, long), id=n) for n in range(100, 160))
    many_series = tuple(
        replace(series(s), id=n, reason=long) for n in range(40) for s in (SeriesState.REQUESTED,)
    )
    periods = tuple(
        Blackout(f"B-{n}", "P" * 500, NOW + timedelta(days=n), NOW + timedelta(days=n + 1), "UTC")
        for n in range(40)
    )
    crowded = board(
        statuses=envs,
        active=active,
        upcoming=windows,
        recent=active[:5],
        active_total=75,
        upcoming_total=90,
        series=many_series,
        blackouts=periods,
        problems=("user group S0X could not be read: " + long,),
    )
    for viewer in (APPROVER, REQUESTER, STRANGER):
        home = valid(render_home(crowded, viewer, labels=labels, notice=long * 2))
        text = str(home["blocks"])
        assert "…and" in text and "more: `/sis-maint list` shows them all." in text
        assert "`/sis-maint blackout list` shows them all." in text
        assert "Also `env20`" in text
        assert home["blocks"][-1]["elements"][0]["text"].startswith("Type `/sis-maint help`")


def test_left_out_windows_are_counted_from_the_totals() -> None:
    windows = tuple(replace(view(WindowState.REQUESTED), id=n) for n in range(1, 41))
    home = valid(render_home(board(upcoming=windows, upcoming_total=52), APPROVER, labels=LABELS))
    shown = sum(1 for b in home["blocks"] if b["type"] == "actions")
    assert f"…and {52 - shown} more: `/sis-maint list` shows them all." in str(home["blocks"])
    everything = render_home(board(upcoming=windows[:3], upcoming_total=3), APPROVER, labels=LABELS)
    assert "more: `/sis-maint list`" not in str(everything["blocks"])
