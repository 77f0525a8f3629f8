"""The App Home tab: published when opened, kept current, answers its own clicks."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from slack_sdk.models.views import View
from sqlalchemy import text

from bot.config import Settings, parse_settings
from bot.services.home_board import HomeBoard
from bot.slack import ids
from bot.slack.home import HomePublisher
from tests.bot.test_home_view import board
from tests.harness import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    STRANGER,
    Bot,
    ManualClock,
    running_bot,
    settings_document,
)


def home_actions(view: dict[str, Any]) -> list[tuple[str, str]]:
    """The buttons of the tab's windows and series (not its own *New request*)."""
    found = []
    for block in view["blocks"]:
        if block.get("type") == "actions":
            found += [(e["action_id"], e["value"]) for e in block["elements"]]
    return found


def home_of(bot: Bot, user: str) -> dict[str, Any]:
    """``user``'s tab as last published, checked against Slack's limits."""
    view = bot.slack.home[user]
    View(**view).validate_json()
    return view


def metric(bot: Bot, name: str, **labels: str) -> float:
    text = bot.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_opening_the_home_tab_publishes_environments_and_windows(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h Banner")
    bot.wait_card(1)
    assert bot.open_home(APPROVER).status_code == 200
    view = bot.slack.home[APPROVER]
    View(**view).validate_json()
    text = str(view["blocks"])
    assert "`prod`" in text and "nightly on, real-time on" in text and "*MW-1*" in text
    assert home_actions(view) == [(ids.APPROVE, "1"), (ids.DENY, "1")]


def test_home_is_refreshed_after_a_change_and_answers_clicks_on_itself(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h")
    bot.wait_card(1)
    bot.open_home(REQUESTER)
    bot.click_home(REQUESTER, ids.APPROVE, "1")  # a requester cannot approve their own
    notice = str(bot.slack.home[REQUESTER]["blocks"][0])
    assert "You are not an approver for prod" in notice
    bot.click_home(APPROVER, ids.APPROVE, "1")
    view = bot.slack.home[REQUESTER]
    ends_at = bot.runtime.windows.get(1).ends_at
    assert ends_at is not None
    # Extend carries the end it was shown with, so a press that arrives twice extends once.
    shown = f"1@{int(ends_at.timestamp())}"
    assert home_actions(view) == [(ids.EXTEND_60, shown), (ids.REENABLE, "1")]
    bot.click_home(REQUESTER, ids.REENABLE, "1")
    assert bot.sim.school("state_u_prod").nightly is True
    blocks = str(bot.slack.home[REQUESTER]["blocks"])
    assert "*MW-1*" in blocks.split("Recently ended")[1]


def test_cancel_from_the_home_tab(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod tomorrow 22:00 1h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    bot.open_home(REQUESTER)
    assert home_actions(bot.slack.home[REQUESTER]) == [(ids.CANCEL, "1")]
    bot.click_home(REQUESTER, ids.CANCEL, "1")
    assert bot.runtime.windows.get(1).state == "cancelled"
    assert "was cancelled by" in bot.thread(1)[-1]


def test_home_shows_the_switches_as_they_are_after_a_change(bot: Bot) -> None:
    bot.open_home(REQUESTER)  # reads prod as on, and remembers it briefly
    bot.command(REQUESTER, "start prod 1h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    text = str(bot.slack.home[REQUESTER]["blocks"])
    assert "nightly off, real-time off" in text.split("`staging`", maxsplit=1)[0]


def test_each_person_sees_only_the_buttons_they_may_press(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h Banner")
    bot.wait_card(1)
    for person in (REQUESTER, APPROVER, STRANGER):
        bot.open_home(person)
    assert home_actions(home_of(bot, APPROVER)) == [(ids.APPROVE, "1"), (ids.DENY, "1")]
    assert home_actions(home_of(bot, REQUESTER)) == [(ids.CANCEL, "1")]  # withdraw their own
    assert home_actions(home_of(bot, STRANGER)) == []
    assert "You approve requests on `prod`" in str(home_of(bot, APPROVER)["blocks"])
    assert "approvers decide" in str(home_of(bot, STRANGER)["blocks"])

    # The refresh after the approval publishes each person's own view again.
    bot.click(APPROVER, ids.APPROVE, "1", bot.card(1))
    ends_at = bot.runtime.windows.get(1).ends_at
    assert ends_at is not None
    holding = [(ids.EXTEND_60, f"1@{int(ends_at.timestamp())}"), (ids.REENABLE, "1")]
    assert home_actions(home_of(bot, REQUESTER)) == holding
    assert home_actions(home_of(bot, APPROVER)) == holding
    assert home_actions(home_of(bot, STRANGER)) == []
    assert "*MW-1*" in str(home_of(bot, STRANGER)["blocks"])  # everyone may read

    # A stranger's press (a stale tab, a forged click) is still refused by the service.
    bot.click_home(STRANGER, ids.REENABLE, "1")
    assert "Only the requester" in str(home_of(bot, STRANGER)["blocks"][0])
    assert bot.runtime.windows.get(1).state == "active"


def group_approvers(base_url: str) -> Settings:
    doc = settings_document(base_url)
    doc["approvers"] = ["S0OPSLEADS", "S0MISSING"]
    return parse_settings(doc)


def test_members_of_an_approver_group_see_approve_and_an_unreadable_group_is_named(
    database_url: str,
) -> None:
    with running_bot(database_url, settings_factory=group_approvers) as bot:
        bot.slack.groups["S0OPSLEADS"] = [APPROVER_2]
        bot.command(REQUESTER, "start staging 1h")
        bot.wait_card(1)
        bot.open_home(APPROVER_2)
        view = home_of(bot, APPROVER_2)
        assert home_actions(view) == [(ids.APPROVE, "1"), (ids.DENY, "1")]
        assert "user group S0MISSING could not be read: no_such_subteam" in str(view["blocks"])
        bot.open_home(APPROVER)  # listed nowhere but in the group that cannot be read
        assert home_actions(home_of(bot, APPROVER)) == []


def test_the_board_is_read_beside_a_writer_without_waiting_for_its_turn(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """On SQLite a transaction that writes waits for the one before it; reading the board only
    reads, so it goes ahead beside a writer (which would otherwise hold it up to 30 s)."""
    path = tmp_path / "ledger.db"
    shutil.copy(sqlite_template, path)
    with running_bot(f"sqlite:///{path}") as bot:
        boards = bot.runtime.home._boards
        writing, release = threading.Event(), threading.Event()

        def writer() -> None:
            with bot.runtime.engine.begin() as conn:  # this process's turn and SQLite's lock
                conn.execute(text("DELETE FROM environment_leases"))
                writing.set()
                release.wait(60)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            assert writing.wait(10)
            started = time.monotonic()
            boards.mark()
            board = boards.read(max_age=0)
            took = time.monotonic() - started
        finally:
            release.set()
            thread.join(10)
        assert took < 5 and board.statuses


def test_new_request_opens_the_request_form(bot: Bot) -> None:
    bot.open_home(STRANGER)
    new = home_of(bot, STRANGER)["blocks"][0]["accessory"]
    assert (new["action_id"], new["text"]["text"]) == (ids.HOME_NEW_REQUEST, "New request")
    bot.click_home(STRANGER, ids.HOME_NEW_REQUEST, new["value"])
    [opened] = bot.slack.calls_to("views.open")
    assert opened.args["trigger_id"] == "trigger-home"
    form = bot.slack.views[-1]
    assert form["callback_id"] == ids.REQUEST_VIEW
    assert [b["block_id"] for b in form["blocks"]][:3] == [ids.B_ENVS, ids.B_WHEN, ids.B_LENGTH]
    # Submitted, it is a request like any other: the tab shows it.
    bot.submit_form(STRANGER, envs=["staging"], length="1h", reason="Banner patch")
    bot.wait_card(1)
    assert "Banner patch" in str(home_of(bot, STRANGER)["blocks"])


def test_new_request_says_why_the_form_did_not_open(bot: Bot) -> None:
    bot.open_home(STRANGER)
    bot.slack.fail("views.open", "expired_trigger_id")
    bot.click_home(STRANGER, ids.HOME_NEW_REQUEST, "form")
    notice = str(home_of(bot, STRANGER)["blocks"][0])
    assert "The request form could not be opened (Slack answered `expired_trigger_id`)" in notice
    assert "type `/sis-maint`" in notice


def test_series_and_blackout_periods_with_what_each_means_next(database_url: str) -> None:
    with running_bot(database_url, clock=ManualClock()) as bot:  # Sat 5 Dec 2026, 15:00 UTC
        series_and_blackouts(bot)


def series_and_blackouts(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod every sat 02:30 1h Banner weekly")
    bot.command(APPROVER, "blackout add 2026-12-05 until 2026-12-06 Grades due")
    bot.command(APPROVER, "blackout add staging 2026-12-20 until 2026-12-22 Winter break")
    bot.open_home(APPROVER)
    bot.open_home(STRANGER)
    text = str(home_of(bot, STRANGER)["blocks"])
    assert "*S-1* `prod`" in text and "every Saturday at 02:30 for 1h" in text
    assert "waiting for an approver: nothing is scheduled until then; first" in text
    assert "*Grades due* (B-1) · all environments" in text
    assert "in force now: no window may be requested until" in text
    assert "*Winter break* (B-2) · staging" in text and "a window in it will be refused" in text
    assert home_actions(home_of(bot, STRANGER)) == []
    # The approver decides the series on the tab; everyone's tab then shows what comes next.
    series = [(ids.SERIES_APPROVE, "1"), (ids.SERIES_DENY, "1")]
    assert home_actions(home_of(bot, APPROVER)) == series
    bot.click_home(STRANGER, ids.SERIES_APPROVE, "1")  # a forged press: refused, on the tab
    assert "Only an approver for prod can approve S-1" in str(home_of(bot, STRANGER)["blocks"][0])
    bot.click_home(APPROVER, ids.SERIES_APPROVE, "1")
    text = str(home_of(bot, STRANGER)["blocks"])
    assert "next: <!date^" in text and "waiting for an approver" not in text
    assert home_actions(home_of(bot, APPROVER)) == []


def test_a_tab_with_more_windows_than_fit_still_publishes(bot: Bot) -> None:
    for n in range(45):
        bot.command(REQUESTER, f"schedule staging tomorrow 22:00 1h nightly batch {n}")
    bot.open_home(APPROVER)
    view = home_of(bot, APPROVER)  # validated: at most 100 blocks
    assert len(view["blocks"]) <= 100
    shown = sum(1 for b in view["blocks"] if b.get("type") == "actions")
    assert 30 < shown < 45
    more = f"…and {45 - shown} more: `/sis-maint list` shows them all."
    assert more in str(view["blocks"])
    assert "Recently ended" in str(view["blocks"])  # what follows the windows still shows


def test_refreshes_send_only_changed_views_and_are_counted(bot: Bot) -> None:
    bot.open_home(STRANGER)
    bot.open_home(APPROVER)
    assert metric(bot, "sis_maint_home_viewers") == 2
    published = metric(bot, "sis_maint_home_publishes_total", outcome="published")
    assert published == 2
    bot.runtime.home.refresh_viewers()  # nothing changed: nothing is sent again
    assert bot.settle()
    assert metric(bot, "sis_maint_home_publishes_total", outcome="unchanged") == 2
    assert len(bot.slack.calls_to("views.publish")) == 2
    bot.command(REQUESTER, "start prod 1h")
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1", bot.card(1))
    assert "*MW-1*" in str(home_of(bot, STRANGER)["blocks"])
    assert metric(bot, "sis_maint_home_publishes_total", outcome="published") > 2


class Boards:
    """A board the test changes, as bot.services.home_board.HomeBoards reads one."""

    def __init__(self, fail_first_forget: bool = False) -> None:
        self.board = board(statuses=(), approvers={}, mark=1)
        self.reads = 0
        self.forgotten = 0
        self._fail = fail_first_forget

    def read(self, *, max_age: float) -> HomeBoard:
        self.reads += 1
        return self.board

    def mark(self) -> int | None:
        return self.board.mark

    def forget(self) -> None:
        self.forgotten += 1
        if self._fail and self.forgotten == 1:
            raise RuntimeError("the ledger cannot be read")


class Published:
    """Records views.publish; stands in for the WebClient."""

    def __init__(self) -> None:
        self.views: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()

    def views_publish(self, *, user_id: str, view: dict[str, Any]) -> None:
        with self.cond:
            self.views.append((user_id, view))
            self.cond.notify_all()

    def to(self, user: str) -> list[dict[str, Any]]:
        return [v for u, v in self.views if u == user]


def publisher(boards: Boards, client: Published, **kwargs: Any) -> HomePublisher:
    return HomePublisher(cast(WebClient, client), boards, {}, **kwargs)


def test_a_refresh_that_fails_is_counted_and_done_again() -> None:
    boards = Boards(fail_first_forget=True)
    home = publisher(boards, Published())
    home.start()
    try:
        home.refresh_viewers()
        assert home.wait_idle(10)  # idle only once a refresh completed
        assert home.is_alive()
    finally:
        home.stop()
    assert boards.forgotten == 2
    pulse = home.heartbeat.read()
    assert (pulse.failures, pulse.failing, pulse.last_error) == (1, 0, "RuntimeError")


def test_the_refresher_keeps_the_most_recent_viewers_and_sends_only_changed_views() -> None:
    boards, client = Boards(), Published()
    home = publisher(boards, client, max_viewers=2)
    for person in ("U1", "U2", "U3"):
        home.opened(person)
    home.opened("U2")  # opened again: the most recent; U1 is the one dropped
    assert [u for u, _ in client.views] == ["U1", "U2", "U3", "U2"]  # opening always sends
    home.start()
    try:
        boards.board = replace(boards.board, problems=("group S1 unreadable",), mark=2)
        home.refresh_viewers()
        assert home.wait_idle(10)
        assert [u for u, _ in client.views[4:]] == ["U3", "U2"]
        home.refresh_viewers()  # nothing changed since: nothing is sent
        assert home.wait_idle(10)
        assert len(client.views) == 6
    finally:
        home.stop()


def test_a_change_made_elsewhere_reaches_the_tab_without_being_announced() -> None:
    # A blackout period added, or a change on another replica: the audit trail moved.
    boards, client = Boards(), Published()
    home = publisher(boards, client, wake=0.01)
    home.opened("U1")
    home.start()
    try:
        boards.board = replace(boards.board, problems=("group S1 unreadable",), mark=2)
        with client.cond:
            assert client.cond.wait_for(lambda: len(client.to("U1")) == 2, 10)
        assert "group S1 unreadable" in str(client.to("U1")[-1]["blocks"])
        reads = boards.reads
        assert home.wait_idle(10)
    finally:
        home.stop()
    assert boards.reads == reads  # the mark did not move again: no further reading


def test_people_opening_the_tab_together_share_one_reading() -> None:
    boards, client = Boards(), Published()
    home = publisher(boards, client)
    for n in range(20):
        home.opened(f"U{n}")
    assert boards.reads == 1 and len(client.views) == 20
    home.refresh_viewers()  # a change: the next person to open it gets a new reading
    home.opened("U0")
    assert boards.reads == 2
